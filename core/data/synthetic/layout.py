"""Random scene layouts: which primitives stand where, their colours and sizes, and the light (all seeded)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import torch

from mm4m.core.data.synthetic.config import SceneConfig
from mm4m.core.data.synthetic.vocabulary import COLOUR_NAMES, Shape

CYLINDER_ELONGATION = 1.5
"""Cylinder half-heights are this many times their sampled proportion of the size (taller than boxes)."""


@dataclass(frozen=True)
class SceneLayout:
    """Parameters of N scenes with K = max_objects object slots each; slots past a scene's count are absent."""

    present: torch.Tensor  # (N, K) bool
    shapes: torch.Tensor  # (N, K) int64, a `Shape` value
    colours: torch.Tensor  # (N, K) int64, an index into COLOUR_NAMES
    sizes: torch.Tensor  # (N, K) float32 size s: sphere radius; box half-extents, cylinder radius 0.7–1 × s
    centres: torch.Tensor  # (N, K, 3) float32, world xyz; objects rest on the ground (y = half-height)
    half_extents: torch.Tensor  # (N, K, 3) float32 along the object's own x, y, z axes
    yaws: torch.Tensor  # (N, K) float32, rotation about the vertical axis (radians)
    ground_albedo: torch.Tensor  # (N, 3) float32 in [0, 1]
    light_direction: torch.Tensor  # (N, 3) float32 unit vectors pointing towards the light
    ambient: torch.Tensor  # (N,) float32 ambient light level
    diffuse: torch.Tensor  # (N,) float32 directional light level; ambient + diffuse ≤ 1

    def __len__(self) -> int:
        return self.present.shape[0]

    def scenes(self, start: int, stop: int) -> SceneLayout:
        """The layouts of scenes ``start … stop - 1``."""
        return SceneLayout(**{field.name: getattr(self, field.name)[start:stop] for field in fields(self)})


def sample_layouts(count: int, config: SceneConfig, generator: np.random.Generator) -> SceneLayout:
    """Draw ``count`` layouts; each object gets its own grid cell and is jittered inside it without leaving it."""
    slots, cells_per_side = config.max_objects, config.layout_grid

    def uniform(low: float, high: float, *shape: int) -> torch.Tensor:
        """float32 draws from [low, high)."""
        return torch.from_numpy(generator.uniform(low, high, shape).astype(np.float32))

    def integers(high: int, *shape: int) -> torch.Tensor:
        """int64 draws from 0 … high − 1."""
        return torch.from_numpy(generator.integers(0, high, shape))

    object_counts = torch.from_numpy(generator.integers(config.min_objects, config.max_objects + 1, count))
    present = torch.arange(slots) < object_counts[:, None]
    cells = torch.from_numpy(generator.random((count, cells_per_side ** 2)).argsort(axis=1)[:, :slots])
    shapes = integers(len(Shape), count, slots)
    colours = integers(len(COLOUR_NAMES), count, slots)
    sizes = uniform(config.min_size, config.max_size, count, slots)
    proportions = uniform(0.7, 1.0, count, slots, 3)
    yaws = uniform(0.0, math.pi / 2, count, slots)

    half_extents = sizes[..., None] * proportions
    sphere = (shapes == Shape.SPHERE)[..., None]
    half_extents = torch.where(sphere, sizes[..., None].expand(-1, -1, 3), half_extents)
    cylinder = shapes == Shape.CYLINDER
    cylinder_extents = torch.stack(
        [half_extents[..., 0], half_extents[..., 1] * CYLINDER_ELONGATION, half_extents[..., 0]], dim=-1)
    half_extents = torch.where(cylinder[..., None], cylinder_extents, half_extents)

    cell_offset = (cells_per_side - 1) / 2
    cell_x = (cells % cells_per_side - cell_offset) * config.cell_size
    cell_z = (cells // cells_per_side - cell_offset) * config.cell_size
    slack = config.cell_size / 2 - math.sqrt(2) * sizes
    jitter = uniform(-1.0, 1.0, count, slots, 2) * slack[..., None]
    centres = torch.stack([cell_x + jitter[..., 0], half_extents[..., 1], cell_z + jitter[..., 1]], dim=-1)

    grey = uniform(0.45, 0.8, count, 1)
    ground_albedo = (grey + uniform(-0.04, 0.04, count, 3)).clamp(0.0, 1.0)
    azimuth = uniform(0.0, 2 * math.pi, count)
    elevation = torch.deg2rad(uniform(30.0, 75.0, count))
    light_direction = torch.stack([elevation.cos() * azimuth.cos(), elevation.sin(),
                                   elevation.cos() * azimuth.sin()], dim=-1)
    ambient = uniform(0.25, 0.45, count)
    diffuse = (1 - ambient) * uniform(0.75, 1.0, count)
    return SceneLayout(present=present, shapes=shapes, colours=colours, sizes=sizes, centres=centres,
                       half_extents=half_extents, yaws=yaws, ground_albedo=ground_albedo,
                       light_direction=light_direction, ambient=ambient, diffuse=diffuse)
