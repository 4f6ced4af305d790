"""Colour palettes: the distinct albedos of the visible surfaces, ordered by how many pixels show them."""

from __future__ import annotations

import torch

from mm4m.core.data.synthetic.shading import GROUND_COLOUR_INDEX, albedo_table

MAX_PALETTE_COLOURS = 7
"""4M palettes hold 1 … 7 colours (spec §1.6)."""

Palette = tuple[tuple[int, int, int], ...]


def palettes(colour_index: torch.Tensor, ground_albedo: torch.Tensor) -> list[Palette]:
    """Per scene, up to 7 albedos (0–255) of ``colour_index`` (N, P) surfaces, most pixels first.

    ``ground_albedo`` (N, 3) is the colour of `GROUND_COLOUR_INDEX`; ties are broken by the lower index.
    """
    scenes = colour_index.shape[0]
    counts = torch.zeros(scenes, GROUND_COLOUR_INDEX + 1, dtype=torch.long)
    counts.scatter_add_(1, colour_index, torch.ones_like(colour_index))
    order = torch.sort(counts, dim=1, descending=True, stable=True).indices[:, :MAX_PALETTE_COLOURS]
    colours = (albedo_table(ground_albedo).gather(1, order[..., None].expand(-1, -1, 3)) * 255).round().long().tolist()
    shown = counts.gather(1, order).gt(0).tolist()
    return [tuple(tuple(colour) for colour, visible in zip(row, flags) if visible)
            for row, flags in zip(colours, shown)]
