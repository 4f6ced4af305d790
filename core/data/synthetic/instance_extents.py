"""Where each instance appears in the image: pixel count, tight box, horizontal centroid and mean depth."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class InstanceExtents:
    """Per scene and instance id 0 … I − 1; entries of instances with no pixel are zero."""

    pixel_counts: torch.Tensor  # (N, I) int64
    boxes: torch.Tensor  # (N, I, 4) int64 pixel edges (left, top, right, bottom): right/bottom are exclusive
    centroid_columns: torch.Tensor  # (N, I) float32 mean column of the pixel centres, in pixels
    mean_depths: torch.Tensor  # (N, I) float32 mean depth over the instance's pixels


def _span(counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """First index with a nonzero count along the last axis and one past the last (0, 0 where all are zero)."""
    occupied = counts > 0
    length = occupied.shape[-1]
    first = occupied.int().argmax(dim=-1)
    end = length - occupied.flip(-1).int().argmax(dim=-1)
    shown = occupied.any(dim=-1)
    return torch.where(shown, first, 0), torch.where(shown, end, 0)


def measure_instances(instances: torch.Tensor, depth: torch.Tensor, instance_count: int) -> InstanceExtents:
    """Extents of ids 0 … ``instance_count`` − 1 in ``instances`` (N, H, W), with ``depth`` (N, H, W)."""
    scenes, height, width = instances.shape
    slots = instances + instance_count * torch.arange(scenes)[:, None, None]
    per_column = torch.bincount((slots * width + torch.arange(width)).flatten(), minlength=scenes * instance_count
                                * width).view(scenes, instance_count, width)
    per_row = torch.bincount((slots * height + torch.arange(height)[:, None]).flatten(),
                             minlength=scenes * instance_count * height).view(scenes, instance_count, height)
    pixel_counts = per_column.sum(dim=-1)
    (left, right), (top, bottom) = _span(per_column), _span(per_row)
    denominator = pixel_counts.clamp(min=1).float()
    centroid_columns = (per_column.float() * (torch.arange(width) + 0.5)).sum(dim=-1) / denominator
    depth_sums = torch.bincount(slots.flatten(), weights=depth.flatten(), minlength=scenes * instance_count)
    return InstanceExtents(pixel_counts=pixel_counts, boxes=torch.stack([left, top, right, bottom], dim=-1),
                           centroid_columns=centroid_columns,
                           mean_depths=depth_sums.view(scenes, instance_count).float() / denominator)
