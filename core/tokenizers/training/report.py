"""`TrainingReport` (untrained vs trained reconstruction metrics, as JSON) and the examples sheet (PNG)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from PIL import Image, ImageDraw
from pydantic import BaseModel, ConfigDict, Field

from mm4m.core.checkpoint.safetensors_file import atomic_write_bytes
from mm4m.core.render import render, save_png
from mm4m.core.spec import ModalitySpec
from mm4m.core.tokenizers.training.config import TrainingConfig

TILE = 128
"""Side of one example picture in the sheet."""
HEADER = 18
COLUMNS = ("input", "untrained", "trained")


class TrainingReport(BaseModel):
    """Outcome of a training run: where the tokenizer is and how well it reconstructs before and after."""

    model_config = ConfigDict(frozen=True)

    modality: str
    steps: int
    samples: int = Field(description="Training samples in the data directory.")
    eval_samples: int = Field(description="Samples the metrics are computed on (the first by file name).")
    primary_metric: str
    higher_is_better: bool
    untrained: dict[str, float] = Field(description="Metrics of the freshly initialised tokenizer.")
    trained: dict[str, float] = Field(description="Metrics after training.")
    loss_curve: list[float] = Field(description="Mean training loss per window of log_every steps.")
    checkpoint: str = Field(description="Released-format tokenizer file (loads with load_tokenizer).")
    examples: str = Field(description="PNG of inputs vs untrained and trained reconstructions.")
    tokenizer_config: dict
    config: TrainingConfig

    @property
    def improved(self) -> bool:
        """Whether training moved the primary metric in the good direction."""
        before, after = self.untrained[self.primary_metric], self.trained[self.primary_metric]
        return after > before if self.higher_is_better else after < before

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the report as indented JSON, atomically."""
        target = Path(path)
        atomic_write_bytes(target, self.model_dump_json(indent=2).encode())
        return target


def _tile(data: torch.Tensor, spec: ModalitySpec) -> Image.Image:
    return render(data, spec).convert("RGB").resize((TILE, TILE), Image.NEAREST)


def example_sheet(spec: ModalitySpec, inputs: torch.Tensor, untrained: torch.Tensor,
                  trained: torch.Tensor) -> Image.Image:
    """One row per example (raw domain): the input, the untrained and the trained reconstruction."""
    rows = inputs.shape[0]
    sheet = Image.new("RGB", (TILE * len(COLUMNS), HEADER + TILE * rows), "white")
    draw = ImageDraw.Draw(sheet)
    for column, title in enumerate(COLUMNS):
        draw.text((column * TILE + 4, 3), title, fill="black")
    for row in range(rows):
        for column, batch in enumerate((inputs, untrained, trained)):
            sheet.paste(_tile(batch[row], spec), (column * TILE, HEADER + row * TILE))
    return sheet


def save_example_sheet(path: str | os.PathLike[str], spec: ModalitySpec, inputs: torch.Tensor,
                       untrained: torch.Tensor, trained: torch.Tensor) -> Path:
    """Render and write the examples sheet atomically."""
    return save_png(example_sheet(spec, inputs, untrained, trained), path)
