"""Surface colours and Lambertian shading under one white directional light plus ambient light."""

from __future__ import annotations

import torch

from mm4m.core.data.synthetic.layout import SceneLayout
from mm4m.core.data.synthetic.vocabulary import GROUND_CLASS, OBJECT_COLOURS

COLOUR_TABLE = torch.tensor(list(OBJECT_COLOURS.values()))
"""(C, 3) albedo of each named colour, in `COLOUR_NAMES` order."""
GROUND_COLOUR_INDEX = len(OBJECT_COLOURS)
"""Surface-colour index of the ground (one past the named colours)."""


def albedo_table(ground_albedo: torch.Tensor) -> torch.Tensor:
    """(N, C + 1, 3) albedo of each surface-colour index per scene: the named colours, then the ground's."""
    return torch.cat([COLOUR_TABLE.expand(ground_albedo.shape[0], -1, -1), ground_albedo[:, None, :]], dim=1)


def surface_colour_indices(layout: SceneLayout, instance: torch.Tensor) -> torch.Tensor:
    """(B, P) named-colour index of the surface seen at each pixel; `GROUND_COLOUR_INDEX` on the ground."""
    object_colours = layout.colours.gather(1, (instance - 1).clamp(min=0))
    return torch.where(instance == GROUND_CLASS, GROUND_COLOUR_INDEX, object_colours)


def shade(layout: SceneLayout, colour_index: torch.Tensor, normals: torch.Tensor,
          in_shadow: torch.Tensor) -> torch.Tensor:
    """(B, P, 3) linear RGB in [0, 1]: albedo × (ambient + diffuse × max(0, n·l) where lit).

    The light is white, so every pixel of a surface is its albedo scaled by one factor (hue is preserved).
    """
    albedo = albedo_table(layout.ground_albedo).gather(1, colour_index[..., None].expand(-1, -1, 3))
    facing = (normals * layout.light_direction[:, None, :]).sum(-1).clamp(min=0)
    light = layout.ambient[:, None] + layout.diffuse[:, None] * facing * (~in_shadow)
    return albedo * light[..., None]
