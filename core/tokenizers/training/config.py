"""`TrainingConfig`: what to train (modality, architecture size) and how (steps, batch, optimiser, schedule)."""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ModelSize(str, Enum):
    """Architecture preset: ``tiny`` for tests and CPU demos, ``small`` and ``base`` (the released size) for GPUs."""

    TINY = "tiny"
    SMALL = "small"
    BASE = "base"


RESUMABLE_CHANGES = frozenset({"steps", "device", "save_every"})
"""Fields a resumed run may change; every other field must match the saved run."""


class TrainingConfig(BaseModel):
    """Settings of one tokenizer training run (§7: AdamW, warmup + cosine learning rate, gradient clipping)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    modality: str = Field(description="Modality key whose tokenizer is trained, e.g. 'tok_rgb@224'.")
    size: ModelSize = ModelSize.TINY
    codebook_size: int | None = Field(default=None, gt=1, description="Codes K; default from the size preset.")
    patch_size: int | None = Field(default=None, gt=0, description="ViT patch; default from the size preset.")
    steps: int = Field(default=1000, gt=0)
    batch_size: int = Field(default=16, gt=0)
    learning_rate: float = Field(default=1e-3, gt=0.0, description="Peak learning rate after warmup.")
    min_learning_rate: float = Field(default=0.0, ge=0.0, description="Learning rate at the end of the cosine.")
    warmup_steps: int = Field(default=0, ge=0)
    weight_decay: float = Field(default=0.05, ge=0.0, description="AdamW decay of weight matrices (not of norms "
                                                                   "and biases).")
    betas: tuple[float, float] = (0.9, 0.99)
    grad_clip: float | None = Field(default=1.0, gt=0.0, description="Max gradient norm; None disables clipping.")
    codebook_weight: float = Field(default=1.0, ge=0.0, description="Weight of the commitment loss.")
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    save_every: int = Field(default=500, gt=0, description="Steps between resumable training states.")
    log_every: int = Field(default=10, gt=0, description="Steps per point of the reported loss curve.")
    eval_samples: int = Field(default=16, gt=0, description="First N samples (by file name) the report scores.")
    example_count: int = Field(default=4, gt=0, description="Samples shown in examples.png.")

    @model_validator(mode="after")
    def _consistent(self) -> TrainingConfig:
        if self.min_learning_rate > self.learning_rate:
            raise ValueError(f"'min_learning_rate' {self.min_learning_rate} exceeds 'learning_rate' "
                             f"{self.learning_rate}")
        if self.warmup_steps >= self.steps:
            raise ValueError(f"'warmup_steps' {self.warmup_steps} must be fewer than 'steps' {self.steps}")
        return self

    def resume_mismatches(self, saved: TrainingConfig) -> list[str]:
        """Fields (other than steps, device, save_every) whose value differs from the ``saved`` run's."""
        mine, theirs = self.model_dump(), saved.model_dump()
        return [f"{name}: saved {theirs[name]!r}, given {mine[name]!r}" for name in mine
                if name not in RESUMABLE_CHANGES and mine[name] != theirs[name]]
