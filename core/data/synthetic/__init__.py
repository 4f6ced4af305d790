"""Procedural 3D scenes (spheres, boxes, cylinders on a ground plane) with exact, pixel-aligned ground truth
for rgb, depth, normals, semseg, instances, SAM/Canny edges, det, caption, color_palette and metadata."""

from mm4m.core.data.synthetic.batch import SceneBatch
from mm4m.core.data.synthetic.config import CameraConfig, CannyConfig, SceneConfig
from mm4m.core.data.synthetic.preview import save_preview_grid
from mm4m.core.data.synthetic.records import ObjectRecord, SceneRecord
from mm4m.core.data.synthetic.render import render_scenes
from mm4m.core.data.synthetic.vocabulary import COLOUR_NAMES, OBJECT_COLOURS, SEMANTIC_CLASS_NAMES, Shape

__all__ = [
    "COLOUR_NAMES", "OBJECT_COLOURS", "SEMANTIC_CLASS_NAMES", "CameraConfig", "CannyConfig", "ObjectRecord",
    "SceneBatch", "SceneConfig", "SceneRecord", "Shape", "render_scenes", "save_preview_grid",
]
