"""Per-image statistics of 4M metadata (spec §1.6), on the 0–255 scale the metadata binning expects."""

from __future__ import annotations

import torch


def luminance(rgb: torch.Tensor) -> torch.Tensor:
    """(N, H, W) grey level in [0, 1] of ``rgb`` (N, 3, H, W) in [0, 1] (ITU-R BT.601 weights)."""
    red, green, blue = rgb.unbind(1)
    return 0.299 * red + 0.587 * green + 0.114 * blue


def brightness(grey: torch.Tensor) -> torch.Tensor:
    """(N,) mean of the grey level ``grey`` (N, H, W), 0–255."""
    return grey.mean(dim=(1, 2)) * 255


def contrast(grey: torch.Tensor) -> torch.Tensor:
    """(N,) RMS contrast: the standard deviation of the grey level, 0–255 scale."""
    return grey.flatten(1).std(dim=1, correction=0) * 255


def saturation(rgb: torch.Tensor) -> torch.Tensor:
    """(N,) mean HSV saturation (max − min) / max, 0–255 (black pixels count as unsaturated)."""
    high, low = rgb.amax(dim=1), rgb.amin(dim=1)
    per_pixel = torch.where(high > 0, (high - low) / high.clamp(min=1e-12), torch.zeros_like(high))
    return per_pixel.mean(dim=(1, 2)) * 255


def colourfulness(rgb: torch.Tensor) -> torch.Tensor:
    """(N,) Hasler–Süsstrunk colourfulness σ_rgyb + 0.3·μ_rgyb of the 0–255 image."""
    red, green, blue = (rgb * 255).flatten(2).unbind(1)
    red_green, yellow_blue = red - green, (red + green) / 2 - blue
    spread = (red_green.var(dim=1, correction=0) + yellow_blue.var(dim=1, correction=0)).sqrt()
    mean = (red_green.mean(dim=1) ** 2 + yellow_blue.mean(dim=1) ** 2).sqrt()
    return spread + 0.3 * mean


def entropy(grey: torch.Tensor) -> torch.Tensor:
    """(N,) Shannon entropy in bits of the 256-bin histogram of the grey level."""
    levels = (grey * 255).round().long().clamp(0, 255).flatten(1)
    counts = torch.zeros(levels.shape[0], 256).scatter_add_(1, levels, torch.ones_like(levels, dtype=torch.float32))
    probabilities = counts / levels.shape[1]
    return (probabilities * torch.log2(1 / probabilities.clamp(min=1e-30))).sum(dim=1)
