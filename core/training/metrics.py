"""Training metrics: one JSON line per logged step in ``metrics.jsonl`` and a loss-curve PNG drawn with pillow."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from mm4m.core.checkpoint.safetensors_file import atomic_write_bytes

METRICS_FILE, CURVE_FILE = "metrics.jsonl", "loss_curve.png"


class MetricsLog:
    """Appends step records to ``metrics.jsonl``; on resume, records after the resumed step are dropped."""

    def __init__(self, output_dir: Path, *, resume_step: int | None = None):
        self.path = output_dir / METRICS_FILE
        self.records: list[dict[str, Any]] = []
        if self.path.is_file():
            lines = self.path.read_text(encoding="utf-8").splitlines()
            kept = [json.loads(line) for line in lines if line.strip()]
            self.records = [r for r in kept if resume_step is not None and r["step"] <= resume_step]
            atomic_write_bytes(self.path, "".join(json.dumps(r) + "\n" for r in self.records).encode())

    def append(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")

    def draw_loss_curve(self) -> Path:
        """Write ``loss_curve.png`` next to the metrics (atomically)."""
        path = self.path.with_name(CURVE_FILE)
        buffer = io.BytesIO()
        loss_curve_image([(r["step"], r["loss"]) for r in self.records]).save(buffer, format="PNG")
        atomic_write_bytes(path, buffer.getvalue())
        return path


def loss_curve_image(points: list[tuple[int, float]], size: tuple[int, int] = (800, 480)) -> Image.Image:
    """Loss against step: axes with min/max labels and the curve as a polyline."""
    width, height = size
    left, right, top, bottom = 70, 20, 20, 40
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.line([(left, top), (left, height - bottom), (width - right, height - bottom)], fill="black")
    if not points:
        draw.text((left + 10, top + 10), "no steps logged yet", fill="black")
        return image
    steps, losses = [p[0] for p in points], [p[1] for p in points]
    s0, s1 = min(steps), max(max(steps), min(steps) + 1)
    l0, l1 = min(losses), max(max(losses), min(losses) + 1e-6)

    def xy(step: float, loss: float) -> tuple[float, float]:
        return (left + (step - s0) / (s1 - s0) * (width - left - right),
                height - bottom - (loss - l0) / (l1 - l0) * (height - top - bottom))

    if len(points) > 1:
        draw.line([xy(s, v) for s, v in points], fill=(31, 119, 180), width=2)
    else:
        x, y = xy(*points[0])
        draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=(31, 119, 180))
    draw.text((5, top), f"{l1:.4g}", fill="black")
    draw.text((5, height - bottom - 12), f"{l0:.4g}", fill="black")
    draw.text((left, height - bottom + 8), f"step {s0}", fill="black")
    draw.text((width - right - 90, height - bottom + 8), f"step {s1}", fill="black")
    draw.text((width // 2 - 20, height - bottom + 8), "loss", fill="black")
    return image
