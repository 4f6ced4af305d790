"""`SceneBatch`: the pixel-aligned modalities and structured records of N rendered scenes."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mm4m.core.data.synthetic.config import SceneConfig
from mm4m.core.data.synthetic.records import SceneRecord


@dataclass(frozen=True)
class SceneBatch:
    """N scenes of S × S pixels; every map is aligned pixel for pixel with ``rgb``.

    Camera space is x right, y up, z towards the viewer; instance 0 and semantic label 0 are the ground.
    """

    config: SceneConfig
    seed: int
    rgb: torch.Tensor  # (N, 3, S, S) float32 in [0, 1], linear (no gamma)
    depth: torch.Tensor  # (N, 1, S, S) float32 z-depth along the optical axis, scene units, > 0
    normals: torch.Tensor  # (N, 3, S, S) float32 unit camera-space normals in [-1, 1]
    semseg: torch.Tensor  # (N, S, S) int64 labels of vocabulary.SEMANTIC_CLASS_NAMES
    instances: torch.Tensor  # (N, S, S) int64: 0 ground, k ≥ 1 the object with ObjectRecord.instance_id k
    sam_edges: torch.Tensor  # (N, S, S) bool instance boundaries
    canny_edges: torch.Tensor  # (N, S, S) bool Canny edges of the rgb's grey level
    records: tuple[SceneRecord, ...]  # det boxes, caption, palette and metadata of each scene

    def __len__(self) -> int:
        return self.rgb.shape[0]
