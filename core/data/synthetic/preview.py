"""A PNG contact sheet of a batch: one row per scene, one column per modality, caption underneath."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image, ImageDraw

from mm4m.core.data.synthetic.batch import SceneBatch

COLUMNS = ("rgb", "depth", "normals", "semseg", "instances", "sam edges", "canny edges", "det")
_LABEL_COLOURS = torch.tensor([[90, 90, 90], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200],
                               [245, 130, 48], [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60]],
                              dtype=torch.uint8)
"""Distinct display colours for labels 0 … 9 (larger labels wrap around)."""
TEXT_HEIGHT = 14
"""Pixels of each line of text (column names on top, a caption under each row)."""


def _to_image(pixels: torch.Tensor, scale: int) -> Image.Image:
    """A (H, W, 3) uint8 tensor as a PIL image enlarged ``scale`` times (nearest neighbour)."""
    image = Image.fromarray(pixels.contiguous().numpy(), mode="RGB")
    return image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)


def _unit_to_bytes(values: torch.Tensor) -> torch.Tensor:
    """Values in [0, 1] as bytes 0–255 (clamped, rounded)."""
    return (values.clamp(0, 1) * 255).round().to(torch.uint8)


def _tiles(batch: SceneBatch, scene: int) -> list[torch.Tensor]:
    """(H, W, 3) uint8 pictures of every modality of ``scene``, in `COLUMNS` order (det drawn later)."""
    depth = batch.depth[scene, 0]
    nearness = (depth.max() - depth) / (depth.max() - depth.min()).clamp(min=1e-6)
    labels = _LABEL_COLOURS[batch.semseg[scene] % len(_LABEL_COLOURS)]
    instances = _LABEL_COLOURS[batch.instances[scene] % len(_LABEL_COLOURS)]
    rgb = _unit_to_bytes(batch.rgb[scene].permute(1, 2, 0))
    return [rgb, _unit_to_bytes(nearness)[..., None].expand(-1, -1, 3),
            _unit_to_bytes((batch.normals[scene].permute(1, 2, 0) + 1) / 2), labels, instances,
            _unit_to_bytes(batch.sam_edges[scene].float())[..., None].expand(-1, -1, 3),
            _unit_to_bytes(batch.canny_edges[scene].float())[..., None].expand(-1, -1, 3), rgb]


def save_preview_grid(batch: SceneBatch, path: str | Path, scenes: int = 4, scale: int = 3) -> Path:
    """Write a PNG of the first ``scenes`` scenes (each tile enlarged ``scale`` times) and return its path."""
    shown = min(scenes, len(batch))
    tile = batch.config.image_size * scale
    row_height = tile + TEXT_HEIGHT
    sheet = Image.new("RGB", (tile * len(COLUMNS), TEXT_HEIGHT + shown * row_height), "white")
    draw = ImageDraw.Draw(sheet)
    for column, name in enumerate(COLUMNS):
        draw.text((column * tile + 2, 1), name, fill="black")
    for scene in range(shown):
        top = TEXT_HEIGHT + scene * row_height
        for column, pixels in enumerate(_tiles(batch, scene)):
            sheet.paste(_to_image(pixels, scale), (column * tile, top))
        det_left = (len(COLUMNS) - 1) * tile
        for item in batch.records[scene].objects:
            x1, y1, x2, y2 = (value * tile for value in item.box)
            draw.rectangle((det_left + x1, top + y1, det_left + x2 - 1, top + y2 - 1), outline="yellow")
            draw.text((det_left + x1 + 1, top + y1), item.shape, fill="yellow")
        draw.text((2, top + tile + 1), batch.records[scene].caption, fill="black")
    path = Path(path)
    sheet.save(path)
    return path
