"""``demo.png``: per held-out scene its RGB input, the 4M's depth / semseg / caption next to the truth, and the
RGB the 4M generated from the scene's true caption."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from mm4m.core.data.synthetic import SceneBatch
from mm4m.core.demo.generation import Predictions
from mm4m.core.demo.modalities import DemoKeys
from mm4m.core.render import render
from mm4m.core.render.colors import DEPTH_RAMP, apply_ramp
from mm4m.core.spec import ModalitySpec

COLUMNS = ("RGB input", "depth · 4M", "depth · truth", "semseg · 4M", "semseg · truth", "RGB from caption · 4M")
SCALE = 2
"""Each 64-px image is drawn twice as large (nearest neighbour)."""
GAP, LINE, MARGIN = 6, 16, 8
FONT = ImageFont.load_default(size=12)


def depth_pair(predicted: torch.Tensor, truth: torch.Tensor) -> tuple[Image.Image, Image.Image]:
    """Both depth maps on the truth's near → far scale, so their colours compare directly."""
    low, high = float(truth.min()), float(truth.max())
    scaled = [((d[0].numpy().astype(np.float64) - low) / max(high - low, 1e-6)) for d in (predicted, truth)]
    return tuple(Image.fromarray(apply_ramp(values, DEPTH_RAMP)) for values in scaled)


def scene_tiles(scene: int, heldout: SceneBatch, predictions: Predictions, specs: dict[str, ModalitySpec],
                keys: DemoKeys) -> list[Image.Image]:
    """The six pictures of one row, in `COLUMNS` order."""
    depth_predicted, depth_true = depth_pair(predictions.depth[scene], heldout.depth[scene])
    semseg = specs[keys.tok_semseg]
    tiles = [render(heldout.rgb[scene], specs[keys.tok_rgb]), depth_predicted, depth_true,
             render(predictions.semseg[scene], semseg), render(heldout.semseg[scene], semseg),
             render(predictions.rgb_from_caption[scene], specs[keys.tok_rgb])]
    return [tile.resize((tile.width * SCALE, tile.height * SCALE), Image.Resampling.NEAREST) for tile in tiles]


def demo_figure(heldout: SceneBatch, predictions: Predictions, specs: dict[str, ModalitySpec], keys: DemoKeys,
                scenes: int) -> Image.Image:
    """A grid of ``scenes`` rows; under each row the true caption and the one the 4M wrote from the RGB."""
    side = heldout.rgb.shape[-1] * SCALE
    width = MARGIN * 2 + len(COLUMNS) * side + (len(COLUMNS) - 1) * GAP
    row_height = side + 2 * LINE + GAP
    figure = Image.new("RGB", (width, MARGIN + LINE + scenes * row_height), "white")
    draw = ImageDraw.Draw(figure)
    for column, name in enumerate(COLUMNS):
        draw.text((MARGIN + column * (side + GAP), MARGIN), name, fill="black", font=FONT)
    for scene in range(scenes):
        top = MARGIN + LINE + scene * row_height
        for column, tile in enumerate(scene_tiles(scene, heldout, predictions, specs, keys)):
            figure.paste(tile, (MARGIN + column * (side + GAP), top))
        draw.text((MARGIN, top + side + 2), f"caption · truth: {heldout.records[scene].caption}", fill="black",
                  font=FONT)
        draw.text((MARGIN, top + side + 2 + LINE), f"caption · 4M:    {predictions.captions[scene]}",
                  fill=(30, 80, 180), font=FONT)
    return figure
