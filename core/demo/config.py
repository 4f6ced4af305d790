"""`DemoConfig`: every size, step count and seed of the embedded demo, with the ``quick`` and ``full`` presets."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PresetName = Literal["quick", "full"]


class DemoConfig(BaseModel):
    """What the demo renders, how long each stage trains, and how it generates (validated, frozen)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    preset: PresetName | None = Field(None, description="The preset these settings came from, if any.")
    seed: int = Field(0, ge=0, description="Seeds the scenes, every training run and the sampling.")
    threads: int = Field(2, gt=0, description="torch CPU threads.")
    # data
    train_scenes: int = Field(gt=0, description="Scenes the tokenizers and the 4M model learn from.")
    heldout_scenes: int = Field(gt=0, description="Scenes only evaluated on (a different seed stream).")
    image_size: int = Field(64, ge=16, description="Side of every image, in pixels.")
    patch_size: int = Field(8, gt=0, description="Pixels per token side for every image modality.")
    max_objects: int = Field(3, ge=1, description="Objects per scene (1 … this), kept low for short captions.")
    # tokenizers
    tokenizer_steps: int = Field(gt=0, description="Optimizer steps of the depth and semseg tokenizers.")
    rgb_tokenizer_steps: int = Field(gt=0, description="Optimizer steps of the RGB tokenizer (colours need more).")
    tokenizer_batch_size: int = Field(16, gt=0)
    codebook_size: int = Field(256, gt=1, description="Codes of each image tokenizer = its modality's vocabulary.")
    text_vocab_size: int = Field(4400, gt=4284, description="WordPiece vocabulary: the 4284 4M specials + words.")
    # 4M model
    dim: int = Field(gt=0)
    encoder_depth: int = Field(gt=0)
    decoder_depth: int = Field(gt=0)
    num_heads: int = Field(gt=0)
    train_steps: int = Field(gt=0, description="Optimizer steps of the 4M model.")
    batch_size: int = Field(gt=0)
    num_input_tokens: int = Field(gt=0)
    num_target_tokens: int = Field(gt=0)
    blr: float = Field(gt=0, description="Base learning rate; lr = blr · batch / 256.")
    warmup_steps: int = Field(ge=0)
    # generation and evaluation
    generation_steps: int = Field(4, gt=0, description="ROAR steps per image target.")
    eval_batch_size: int = Field(64, gt=0)
    shown_examples: int = Field(4, gt=0, description="Held-out scenes drawn in demo.png.")

    @model_validator(mode="after")
    def _consistent(self) -> DemoConfig:
        if self.image_size % self.patch_size:
            raise ValueError(f"image_size {self.image_size} is not a multiple of patch_size {self.patch_size}")
        if self.dim % self.num_heads:
            raise ValueError(f"dim {self.dim} is not a multiple of num_heads {self.num_heads}")
        if self.warmup_steps >= self.train_steps:
            raise ValueError(f"warmup_steps {self.warmup_steps} must be fewer than train_steps {self.train_steps}")
        if self.shown_examples > self.heldout_scenes:
            raise ValueError(f"shown_examples {self.shown_examples} exceeds heldout_scenes {self.heldout_scenes}")
        return self

    @property
    def grid_tokens(self) -> int:
        """Tokens per image modality ((image_size / patch_size)²)."""
        return (self.image_size // self.patch_size) ** 2

    @classmethod
    def preset_config(cls, name: PresetName, **overrides: object) -> DemoConfig:
        """The ``quick`` (test-suite) or ``full`` (README) settings, with any field overridden."""
        return cls.model_validate({**PRESETS[name], "preset": name, **overrides})


_MODEL = {"dim": 128, "encoder_depth": 3, "decoder_depth": 3, "num_heads": 4, "batch_size": 32,
          "num_input_tokens": 64, "num_target_tokens": 64, "blr": 0.024}
PRESETS: dict[str, dict[str, object]] = {
    "quick": {**_MODEL, "train_scenes": 1200, "heldout_scenes": 96, "tokenizer_steps": 250,
              "rgb_tokenizer_steps": 500, "train_steps": 330, "warmup_steps": 30},
    "full": {**_MODEL, "train_scenes": 4000, "heldout_scenes": 256, "tokenizer_steps": 600,
             "rgb_tokenizer_steps": 1500, "train_steps": 1600, "warmup_steps": 100},
}
"""Preset settings (tuned to beat every baseline with room to spare; see docs/demo.md for their timings)."""
