"""`render_scenes`: seeded layouts → ray-cast images and label maps → edges and structured records."""

from __future__ import annotations

import numpy as np
import torch

from mm4m.core.data.synthetic.batch import SceneBatch
from mm4m.core.data.synthetic.camera import CameraRays, camera_rays
from mm4m.core.data.synthetic.config import SceneConfig
from mm4m.core.data.synthetic.describe import describe_scenes
from mm4m.core.data.synthetic.edges import canny_edges, instance_boundaries
from mm4m.core.data.synthetic.image_statistics import luminance
from mm4m.core.data.synthetic.instance_extents import measure_instances
from mm4m.core.data.synthetic.layout import SceneLayout, sample_layouts
from mm4m.core.data.synthetic.raycast import nearest_surfaces, shadowed
from mm4m.core.data.synthetic.shading import shade, surface_colour_indices
from mm4m.core.data.synthetic.vocabulary import GROUND_CLASS

CHUNK_SCENES = 32
"""Scenes ray-cast together; bounds memory (results do not depend on it)."""


def _cast(layout: SceneLayout, rays: CameraRays) -> dict[str, torch.Tensor]:
    """Per-pixel (B, P, …) rgb, depth, camera normals, instance ids and surface-colour indices of ``layout``."""
    hits = nearest_surfaces(layout, rays.origin, rays.directions)
    colour_index = surface_colour_indices(layout, hits.instance)
    rgb = shade(layout, colour_index, hits.normals, shadowed(layout, hits))
    return {"rgb": rgb, "depth": hits.distance * rays.forward_cosines, "normals": hits.normals @ rays.world_to_camera.T,
            "instances": hits.instance, "colour_index": colour_index}


def _semantic_labels(layout: SceneLayout, instances: torch.Tensor) -> torch.Tensor:
    """(N, S, S) semantic labels: the ground's, or the shape class of the object of each instance id."""
    slots = (instances.flatten(1) - 1).clamp(min=0)
    object_classes = layout.shapes.gather(1, slots).view_as(instances) + 1
    return torch.where(instances == GROUND_CLASS, GROUND_CLASS, object_classes)


def render_scenes(count: int, config: SceneConfig | None = None, seed: int = 0) -> SceneBatch:
    """Render ``count`` random scenes of ``config`` (default `SceneConfig()`); the same arguments give the same
    batch, bit for bit. Any non-negative integer is a distinct seed (numpy's PCG64 takes all of its bits)."""
    if count < 1:
        raise ValueError(f"render_scenes count must be ≥ 1, found {count}")
    if seed < 0:
        raise ValueError(f"render_scenes seed must be a non-negative integer, found {seed}")
    config = config or SceneConfig()
    layout = sample_layouts(count, config, np.random.default_rng(seed))
    rays = camera_rays(config.camera, config.image_size)
    chunks = [_cast(layout.scenes(start, start + CHUNK_SCENES), rays) for start in range(0, count, CHUNK_SCENES)]
    size = config.image_size
    pixels = {name: torch.cat([chunk[name] for chunk in chunks]) for name in chunks[0]}
    rgb = pixels["rgb"].view(count, size, size, 3).permute(0, 3, 1, 2).contiguous()
    depth = pixels["depth"].view(count, 1, size, size)
    normals = pixels["normals"].view(count, size, size, 3).permute(0, 3, 1, 2).contiguous()
    instances = pixels["instances"].view(count, size, size)
    semseg = _semantic_labels(layout, instances)
    grey = luminance(rgb)
    extents = measure_instances(instances, depth[:, 0], config.max_objects + 1)
    records = describe_scenes(layout, extents, config, rgb=rgb, grey=grey, semseg=semseg, instances=instances,
                              colour_index=pixels["colour_index"])
    return SceneBatch(config=config, seed=seed, rgb=rgb, depth=depth, normals=normals, semseg=semseg,
                      instances=instances, sam_edges=instance_boundaries(instances),
                      canny_edges=canny_edges(grey, config.canny), records=tuple(records))
