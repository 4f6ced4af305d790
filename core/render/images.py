"""Array visuals: images, depth colour maps, label palettes, PCA feature maps and vector heat maps (→ PIL)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from mm4m.core.render.colors import DEPTH_RAMP, DIVERGING_RAMP, UNLABELLED_COLOR, apply_ramp, label_color

VECTOR_CELL = 8
"""Side in pixels of one value of a rendered vector / sequence embedding."""
VECTOR_ROW = 16
"""Values per row when a global vector is folded into a block."""


def _unit_range(values: np.ndarray) -> np.ndarray:
    """Rescale to [0, 1] by min and max; constant data maps to 0.5."""
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        return np.full(values.shape, 0.5)
    return (values - low) / (high - low)


def image_picture(pixels: np.ndarray) -> Image.Image:
    """(1 | 3, H, W) values in [0, 1] (clipped) → greyscale or RGB image."""
    data = np.rint(np.clip(pixels, 0.0, 1.0) * 255).astype(np.uint8)
    return Image.fromarray(data[0], mode="L") if data.shape[0] == 1 else Image.fromarray(data.transpose(1, 2, 0))


def depth_picture(depth: np.ndarray) -> Image.Image:
    """(H, W) depth → colour map, rescaled per image (near dark violet, far yellow)."""
    return Image.fromarray(apply_ramp(_unit_range(depth.astype(np.float64)), DEPTH_RAMP))


def labels_picture(labels: np.ndarray, unlabelled: int | None = None) -> Image.Image:
    """(H, W) integer class map → one palette colour per class; ``unlabelled`` pixels are black."""
    picture = np.zeros(labels.shape + (3,), dtype=np.uint8)
    for label in np.unique(labels):
        picture[labels == label] = UNLABELLED_COLOR if label == unlabelled else label_color(int(label))
    return Image.fromarray(picture)


def features_picture(features: np.ndarray) -> Image.Image:
    """(C, H, W) feature map → its three leading principal components (over positions) as RGB."""
    channels, height, width = features.shape
    rows = features.reshape(channels, -1).T.astype(np.float64)
    rows = rows - rows.mean(axis=0)
    _, _, components = np.linalg.svd(rows, full_matrices=False)
    projected = rows @ components[:3].T
    if projected.shape[1] < 3:
        projected = np.pad(projected, ((0, 0), (0, 3 - projected.shape[1])))
    rgb = np.stack([_unit_range(projected[:, i]) for i in range(3)], axis=-1)
    return Image.fromarray(np.rint(rgb.reshape(height, width, 3) * 255).astype(np.uint8))


def vector_picture(values: np.ndarray) -> Image.Image:
    """(C,) vector (folded into rows of 16) or (L, C) matrix → diverging heat map scaled by the largest |value|."""
    matrix = values.reshape(-1, VECTOR_ROW) if values.ndim == 1 and values.size % VECTOR_ROW == 0 \
        else np.atleast_2d(values)
    scale = float(np.abs(matrix).max()) or 1.0
    picture = Image.fromarray(apply_ramp(0.5 + 0.5 * matrix.astype(np.float64) / scale, DIVERGING_RAMP))
    return picture.resize((matrix.shape[1] * VECTOR_CELL, matrix.shape[0] * VECTOR_CELL), Image.NEAREST)
