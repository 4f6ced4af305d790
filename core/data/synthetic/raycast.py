"""Casting rays into whole scene layouts: nearest surface per ray (ground or object) and shadow tests."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mm4m.core.data.synthetic.layout import SceneLayout
from mm4m.core.data.synthetic.primitives import (
    box_distances,
    box_normals,
    cylinder_distances,
    cylinder_normals,
    sphere_distances,
    sphere_normals,
)
from mm4m.core.data.synthetic.vocabulary import GROUND_CLASS, Shape

UP = torch.tensor([0.0, 1.0, 0.0])
SHADOW_RAY_LIFT = 1e-3
"""Shadow rays start this far above the surface along its normal."""


@dataclass(frozen=True)
class SurfaceHits:
    """The nearest surface along each of P rays in each of B scenes."""

    distance: torch.Tensor  # (B, P) float32 ray distance to the hit
    instance: torch.Tensor  # (B, P) int64: 0 for the ground, k + 1 for the object in slot k
    points: torch.Tensor  # (B, P, 3) float32 world hit points
    normals: torch.Tensor  # (B, P, 3) float32 unit world normals


def _per_object(values: torch.Tensor, scenes: torch.Tensor) -> torch.Tensor:
    """Rows of ``values`` (B|1, …) for each object's scene; a single shared row is kept as is."""
    return values if values.shape[0] == 1 else values[scenes]


def object_distances(layout: SceneLayout, origins: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """(B, K, P) distance to each object slot along each ray (``inf`` for misses and absent slots).

    ``origins`` and ``directions`` are (B|1, P|1, 3); each shape is intersected only with the slots holding it.
    """
    scenes, slots = layout.present.shape
    rays = torch.broadcast_shapes(origins.shape[1:2], directions.shape[1:2])[0]
    distances = torch.full((scenes, slots, rays), torch.inf)
    for shape in Shape:
        scene, slot = torch.nonzero(layout.present & (layout.shapes == shape), as_tuple=True)
        if scene.numel() == 0:
            continue
        ray_origins, ray_directions = _per_object(origins, scene), _per_object(directions, scene)
        centres, extents = layout.centres[scene, slot], layout.half_extents[scene, slot]
        if shape is Shape.SPHERE:
            distances[scene, slot] = sphere_distances(ray_origins, ray_directions, centres, extents[:, 0])
        elif shape is Shape.BOX:
            distances[scene, slot] = box_distances(ray_origins, ray_directions, centres, extents,
                                                   layout.yaws[scene, slot])
        else:
            distances[scene, slot] = cylinder_distances(ray_origins, ray_directions, centres, extents[:, 0],
                                                        extents[:, 1])
    return distances


def surface_normals(layout: SceneLayout, points: torch.Tensor, instance: torch.Tensor) -> torch.Tensor:
    """(B, P, 3) world normals at surface ``points`` (B, P, 3) of ``instance`` (B, P) (0 = the ground)."""
    normals = UP.expand_as(points).clone()
    shapes = layout.shapes.gather(1, (instance - 1).clamp(min=0))
    for shape in Shape:
        scene, pixel = torch.nonzero((instance != GROUND_CLASS) & (shapes == shape), as_tuple=True)
        slot = instance[scene, pixel] - 1
        on, centres, extents = points[scene, pixel], layout.centres[scene, slot], layout.half_extents[scene, slot]
        if shape is Shape.SPHERE:
            normals[scene, pixel] = sphere_normals(on, centres)
        elif shape is Shape.BOX:
            normals[scene, pixel] = box_normals(on, centres, extents, layout.yaws[scene, slot])
        else:
            normals[scene, pixel] = cylinder_normals(on, centres, extents[:, 0], extents[:, 1])
    return normals


def nearest_surfaces(layout: SceneLayout, origin: torch.Tensor, directions: torch.Tensor) -> SurfaceHits:
    """The first surface hit by rays from the shared ``origin`` (3,) along ``directions`` (P, 3), which all
    point below the horizon."""
    ground = (-origin[1] / directions[:, 1]).expand(len(layout), 1, -1)
    objects = object_distances(layout, origin.view(1, 1, 3), directions[None])
    distance, instance = torch.cat([ground, objects], dim=1).min(dim=1)
    points = origin + distance[..., None] * directions
    return SurfaceHits(distance=distance, instance=instance, points=points,
                       normals=surface_normals(layout, points, instance))


def shadowed(layout: SceneLayout, hits: SurfaceHits) -> torch.Tensor:
    """(B, P) bool: whether an object blocks the scene's light from the surface ``hits``."""
    lifted = hits.points + hits.normals * SHADOW_RAY_LIFT
    distances = object_distances(layout, lifted, layout.light_direction[:, None, :])
    return torch.isfinite(distances).any(dim=1)
