"""The demo's report: what ran, how long each stage took on how loaded a machine, and every score."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from mm4m.core.checkpoint.safetensors_file import atomic_write_bytes
from mm4m.core.demo.config import DemoConfig
from mm4m.core.demo.evaluation import Score

REPORT_FILE = "report.json"
REPORT_FORMAT = "mm4m-demo-report"


class CaptionExample(BaseModel):
    """A held-out scene's true caption and the one the 4M wrote from its RGB."""

    model_config = ConfigDict(frozen=True)

    truth: str
    generated: str


class DemoReport(BaseModel):
    """Everything ``report.json`` records; `beats_baselines` is the demo's verdict."""

    model_config = ConfigDict(frozen=True)

    format: Literal["mm4m-demo-report"] = REPORT_FORMAT
    config: DemoConfig
    torch_threads: int
    cpu_count: int
    load_average: tuple[float, float, float]
    stage_seconds: dict[str, float]
    tokenizers: dict[str, dict[str, float]]
    training_loss: tuple[float, float]
    scores: list[Score]
    captions: list[CaptionExample]
    files: list[str]

    @property
    def total_seconds(self) -> float:
        return sum(self.stage_seconds.values())

    @property
    def beats_baselines(self) -> bool:
        """Whether the 4M beats the trivial baseline on every task's primary metric."""
        return all(score.beats_baseline for score in self.scores if score.primary)

    def save(self, directory: Path) -> Path:
        """Write ``report.json`` (with the verdict and total time) atomically."""
        path = directory / REPORT_FILE
        data = self.model_dump(mode="json")
        data.update(total_seconds=round(self.total_seconds, 1), beats_baselines=self.beats_baselines)
        for score, model in zip(data["scores"], self.scores, strict=True):
            score["beats_baseline"] = model.beats_baseline
        atomic_write_bytes(path, (json.dumps(data, indent=2) + "\n").encode())
        return path


def score_rows(report: DemoReport) -> list[tuple[str, ...]]:
    """Table rows: task, metric (↑/↓), 4M, baseline, tokenizer ceiling, verdict."""
    rows = []
    for score in report.scores:
        arrow = "↑" if score.higher_is_better else "↓"
        ceiling = "" if score.ceiling is None else f"{score.ceiling:.3f}"
        verdict = ("beats" if score.beats_baseline else "loses") + ("" if score.primary else " (secondary)")
        rows.append((score.task, f"{score.metric} {arrow}", f"{score.model:.3f}",
                     f"{score.baseline:.3f} ({score.baseline_name})", ceiling, verdict))
    return rows
