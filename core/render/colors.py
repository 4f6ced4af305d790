"""Colour maps: a perceptually ordered ramp for depth and scalar heat maps, and a stable palette for labels."""

from __future__ import annotations

import colorsys

import numpy as np

DEPTH_RAMP = np.array([
    (13, 8, 135), (84, 2, 163), (139, 10, 165), (185, 50, 137), (219, 92, 104),
    (244, 136, 73), (254, 188, 43), (240, 249, 33),
], dtype=np.float64)
"""Anchor colours from near (dark blue-violet) to far (yellow); interpolated linearly in between."""

DIVERGING_RAMP = np.array([(49, 54, 149), (116, 173, 209), (247, 247, 247), (244, 109, 67), (165, 0, 38)],
                          dtype=np.float64)
"""Negative (blue) → zero (white) → positive (red), for signed values such as embeddings."""

UNLABELLED_COLOR = (0, 0, 0)
"""Pixels of the "unlabelled" class are black."""
GOLDEN_RATIO_CONJUGATE = 0.618033988749895


def apply_ramp(values: np.ndarray, ramp: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (any shape) → uint8 RGB of shape ``values.shape + (3,)``, interpolating the anchors."""
    position = np.clip(values, 0.0, 1.0) * (len(ramp) - 1)
    low = np.floor(position).astype(np.int64).clip(0, len(ramp) - 2)
    frac = (position - low)[..., None]
    return np.rint(ramp[low] * (1 - frac) + ramp[low + 1] * frac).astype(np.uint8)


def label_color(label: int) -> tuple[int, int, int]:
    """A stable, well-spread colour per class id: the hue steps by the golden ratio, brightness alternates."""
    hue = (label * GOLDEN_RATIO_CONJUGATE) % 1.0
    saturation, value = (0.65, 0.95) if label % 2 else (0.9, 0.75)
    red, green, blue = colorsys.hsv_to_rgb(hue, saturation, value)
    return round(red * 255), round(green * 255), round(blue * 255)

