"""Assembling the structured records of rendered scenes from their layouts and label maps."""

from __future__ import annotations

import torch

from mm4m.core.data.synthetic.caption import caption
from mm4m.core.data.synthetic.config import SceneConfig
from mm4m.core.data.synthetic.instance_extents import InstanceExtents
from mm4m.core.data.synthetic.layout import SceneLayout
from mm4m.core.data.synthetic.metadata import metadata_values
from mm4m.core.data.synthetic.palette import palettes
from mm4m.core.data.synthetic.records import ObjectRecord, SceneRecord
from mm4m.core.data.synthetic.vocabulary import COLOUR_NAMES, LARGE, SMALL, Shape


def visible_objects(layout: SceneLayout, extents: InstanceExtents, config: SceneConfig) -> list[list[ObjectRecord]]:
    """Per scene, a record for every object with a visible pixel, most pixels first (then lower id)."""
    size = config.image_size
    counts = extents.pixel_counts[:, 1:].tolist()
    boxes = (extents.boxes[:, 1:].float() / size).tolist()
    centroids = (extents.centroid_columns[:, 1:] / size).tolist()
    depths = extents.mean_depths[:, 1:].tolist()
    shapes, colours, sizes = layout.shapes.tolist(), layout.colours.tolist(), layout.sizes.tolist()
    scenes = []
    for scene in range(len(layout)):
        objects = [
            ObjectRecord(instance_id=slot + 1, shape=Shape(shapes[scene][slot]).noun,
                         colour=COLOUR_NAMES[colours[scene][slot]],
                         size_word=SMALL if sizes[scene][slot] < config.size_midpoint else LARGE,
                         size=sizes[scene][slot], box=tuple(boxes[scene][slot]), pixel_count=pixel_count,
                         centroid_x=centroids[scene][slot], mean_depth=depths[scene][slot])
            for slot, pixel_count in enumerate(counts[scene]) if pixel_count > 0
        ]
        scenes.append(sorted(objects, key=lambda item: (-item.pixel_count, item.instance_id)))
    return scenes


def describe_scenes(layout: SceneLayout, extents: InstanceExtents, config: SceneConfig, *, rgb: torch.Tensor,
                    grey: torch.Tensor, semseg: torch.Tensor, instances: torch.Tensor,
                    colour_index: torch.Tensor) -> list[SceneRecord]:
    """Records of N rendered scenes: visible objects, caption, palette of ``colour_index`` (N, P) and metadata."""
    objects = visible_objects(layout, extents, config)
    captions = [caption(items) for items in objects]
    scene_palettes = palettes(colour_index, layout.ground_albedo)
    metadata = metadata_values(rgb, grey, semseg, instances, captions)
    return [SceneRecord(objects=tuple(items), caption=text, palette=palette, metadata=values)
            for items, text, palette, values in zip(objects, captions, scene_palettes, metadata)]
