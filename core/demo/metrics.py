"""Scores of predictions against ground truth, each over a whole evaluation set (pure functions of tensors)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from mm4m.core.data.synthetic import OBJECT_COLOURS

NEUTRAL_COLOURS = frozenset({"white"})
"""Colours indistinguishable from the grey floor by hue; colour scores leave them out."""
CHROMATIC_COLOURS = tuple(name for name in OBJECT_COLOURS if name not in NEUTRAL_COLOURS)
MIN_SATURATION = 0.3
"""HSV saturation below which a pixel counts as grey (floor, white objects, blur)."""
MIN_COLOUR_SHARE = 0.004
"""Share of an image's pixels a colour must cover to count as shown (16 pixels of a 64 × 64 image)."""


def depth_rmse(predicted: torch.Tensor, truth: torch.Tensor) -> float:
    """Root-mean-square depth error over every pixel (scene units)."""
    return math.sqrt(float((predicted.double() - truth.double()).pow(2).mean()))


def pixel_accuracy(predicted: torch.Tensor, truth: torch.Tensor) -> float:
    """Share of pixels whose predicted label is the true one."""
    return float((predicted == truth).double().mean())


def mean_iou(predicted: torch.Tensor, truth: torch.Tensor) -> float:
    """Mean over classes (present in either map) of intersection over union, pooled over the whole set."""
    ious = []
    for label in torch.unique(torch.cat([predicted.flatten(), truth.flatten()])):
        hit, true = predicted == label, truth == label
        ious.append(float((hit & true).sum()) / float((hit | true).sum()))
    return sum(ious) / len(ious)


def token_accuracy(predicted: Sequence[Sequence[int]], truth: Sequence[Sequence[int]]) -> float:
    """Share of true token positions (through [EOS]) where the prediction has the same token."""
    if len(predicted) != len(truth):
        raise ValueError(f"expected as many predictions as truths, found {len(predicted)} and {len(truth)}")
    total = sum(len(t) for t in truth)
    if total == 0:
        raise ValueError("token accuracy of empty truths is undefined")
    correct = sum(p == t for pred, true in zip(predicted, truth, strict=True) for p, t in zip(pred, true))
    return correct / total


def psnr(predicted: torch.Tensor, truth: torch.Tensor) -> float:
    """Mean per-image PSNR (dB) of images in [0, 1] (predictions clamped)."""
    errors = (predicted.clamp(0, 1).double() - truth.double()).pow(2).flatten(1).mean(dim=1)
    return float((10 * torch.log10(1 / errors.clamp_min(1e-10))).mean())


def shown_colours(image: torch.Tensor) -> set[str]:
    """Chromatic colour names covering at least `MIN_COLOUR_SHARE` of an RGB image (3, H, W) in [0, 1].

    Shading scales an albedo by one factor per pixel, so a pixel's chromaticity (rgb / sum) names its colour.
    """
    pixels = image.clamp(0, 1).flatten(1).T.double()
    brightest = pixels.max(dim=1).values
    saturation = (brightest - pixels.min(dim=1).values) / brightest.clamp_min(1e-6)
    chromatic = pixels[(saturation >= MIN_SATURATION) & (brightest > 0.05)]
    if len(chromatic) == 0:
        return set()
    albedos = torch.tensor([OBJECT_COLOURS[name] for name in CHROMATIC_COLOURS], dtype=torch.float64)
    nearest = torch.cdist(chromatic / chromatic.sum(1, keepdim=True), albedos / albedos.sum(1, keepdim=True)).argmin(1)
    counts = torch.bincount(nearest, minlength=len(CHROMATIC_COLOURS))
    return {name for name, count in zip(CHROMATIC_COLOURS, counts.tolist(), strict=True)
            if count >= MIN_COLOUR_SHARE * image.shape[-1] * image.shape[-2]}


def colour_f1(images: torch.Tensor, named: Sequence[set[str]]) -> float:
    """F1 of the colours shown in each image against the chromatic colours its caption names, pooled."""
    hits = shown = wanted = 0
    for image, names in zip(images, named, strict=True):
        found, expected = shown_colours(image), set(names) - NEUTRAL_COLOURS
        hits, shown, wanted = hits + len(found & expected), shown + len(found), wanted + len(expected)
    return 2 * hits / (shown + wanted) if shown + wanted else 1.0
