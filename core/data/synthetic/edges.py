"""Edge maps: instance boundaries (SAM-style) and Canny edges of an intensity image, batched with torch."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from mm4m.core.data.synthetic.config import CannyConfig

_SMOOTH, _DIFFERENCE = torch.tensor([1.0, 2.0, 1.0]) / 4, torch.tensor([-1.0, 0.0, 1.0]) / 2
"""The separable factors of the Sobel operator / 8 (smoothing across, central difference along)."""
_NEIGHBOUR_STEPS = ((0, 1), (1, 1), (1, 0), (1, -1))
"""(row, column) step along the gradient for the directions 0°, 45°, 90° and 135° (rows grow downwards)."""


def instance_boundaries(instances: torch.Tensor) -> torch.Tensor:
    """(N, H, W) bool: pixels with a 4-neighbour of another instance id (both sides of a boundary are marked)."""
    boundary = torch.zeros_like(instances, dtype=torch.bool)
    across_columns = instances[:, :, 1:] != instances[:, :, :-1]
    across_rows = instances[:, 1:, :] != instances[:, :-1, :]
    boundary[:, :, 1:] |= across_columns
    boundary[:, :, :-1] |= across_columns
    boundary[:, 1:, :] |= across_rows
    boundary[:, :-1, :] |= across_rows
    return boundary


def _correlate(images: torch.Tensor, kernel: torch.Tensor, axis: int) -> torch.Tensor:
    """(N, H, W) ``images`` correlated with the odd 1-D ``kernel`` along ``axis`` (1 rows, 2 columns), edges
    replicated; shifted sums, which beat single-channel conv2d on CPU."""
    radius = kernel.numel() // 2
    length = images.shape[axis]
    first, last = images.narrow(axis, 0, 1), images.narrow(axis, length - 1, 1)
    margin = [-1] * images.dim()
    margin[axis] = radius
    padded = torch.cat([first.expand(margin), images, last.expand(margin)], dim=axis)
    return sum(weight * padded.narrow(axis, offset, length) for offset, weight in enumerate(kernel.tolist()))


def _gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """(N, H, W) images blurred by a separable Gaussian of ``sigma`` pixels (edges replicated)."""
    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-offsets ** 2 / (2 * sigma ** 2))
    kernel = kernel / kernel.sum()
    return _correlate(_correlate(images, kernel, 1), kernel, 2)


def _dilated(mask: torch.Tensor) -> torch.Tensor:
    """(N, H, W) bool ``mask`` grown by one pixel in all 8 directions."""
    across = mask.clone()
    across[:, :, 1:] |= mask[:, :, :-1]
    across[:, :, :-1] |= mask[:, :, 1:]
    grown = across.clone()
    grown[:, 1:] |= across[:, :-1]
    grown[:, :-1] |= across[:, 1:]
    return grown


def canny_edges(intensity: torch.Tensor, config: CannyConfig) -> torch.Tensor:
    """(N, H, W) bool Canny edges of ``intensity`` (N, H, W): blur, Sobel, non-maximum suppression, hysteresis.

    A pixel must be ≥ its neighbour ahead along the gradient and > the one behind, so a ridge two pixels wide
    keeps one of them: edges are one pixel thick.
    """
    blurred = _gaussian_blur(intensity, config.sigma)
    gradient_x = _correlate(_correlate(blurred, _SMOOTH, 1), _DIFFERENCE, 2)
    gradient_y = _correlate(_correlate(blurred, _DIFFERENCE, 1), _SMOOTH, 2)
    magnitude = torch.hypot(gradient_x, gradient_y)
    angle = torch.atan2(gradient_y, gradient_x) % math.pi
    direction = torch.round(angle / (math.pi / 4)).long() % 4
    height, width = magnitude.shape[1:]
    padded = F.pad(magnitude, (1, 1, 1, 1))
    local_maximum = torch.zeros_like(magnitude, dtype=torch.bool)
    for index, (rows, columns) in enumerate(_NEIGHBOUR_STEPS):
        ahead = padded[:, 1 + rows:1 + rows + height, 1 + columns:1 + columns + width]
        behind = padded[:, 1 - rows:1 - rows + height, 1 - columns:1 - columns + width]
        local_maximum |= (direction == index) & (magnitude >= ahead) & (magnitude > behind)
    weak = local_maximum & (magnitude >= config.low_threshold)
    return hysteresis(local_maximum & (magnitude >= config.high_threshold), weak)


def hysteresis(strong: torch.Tensor, weak: torch.Tensor) -> torch.Tensor:
    """(N, H, W) bool: the ``weak`` pixels 8-connected to a ``strong`` one (strong ⊆ weak) through weak pixels.

    Grows the strong set one pixel per step, each step only in the images that still changed in the last one.
    """
    edges = strong.clone()
    active = torch.arange(edges.shape[0])
    while active.numel() > 0:
        current = edges[active]
        grown = weak[active] & _dilated(current)
        edges[active] = grown
        active = active[(grown != current).flatten(1).any(dim=1)]
    return edges
