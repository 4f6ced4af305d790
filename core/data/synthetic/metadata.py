"""The 4M metadata values (spec §1.6) that are exact for synthetic scenes, unbinned, by spec name."""

from __future__ import annotations

import re
from collections.abc import Sequence

import torch

from mm4m.core.data.synthetic import image_statistics
from mm4m.core.data.synthetic.vocabulary import GROUND_CLASS, SEMANTIC_CLASS_NAMES

COMPUTED_METADATA = (
    "original_width", "original_height", "caption_n_chars", "caption_n_words", "caption_n_sentences", "n_humans",
    "n_sam_instances", "colorfulness", "brightness", "contrast", "saturation", "entropy", "walkability",
    "objectness", "semantic_diversity",
)
"""The metadata keys every scene record carries (the others need detectors or human ratings)."""


def _sentence_count(text: str) -> int:
    """Non-empty stretches of ``text`` between sentence-ending punctuation."""
    return len([part for part in re.split(r"[.!?]+", text) if part.strip()])


def metadata_values(rgb: torch.Tensor, grey: torch.Tensor, semseg: torch.Tensor, instances: torch.Tensor,
                    captions: Sequence[str]) -> list[dict[str, float]]:
    """One dict per scene with every `COMPUTED_METADATA` key, from ``rgb`` (N, 3, H, W), its grey level, label
    maps (N, H, W) and the captions.

    ``walkability`` is the ground's share of the pixels, ``objectness`` the objects' share, ``n_sam_instances``
    the distinct instance ids shown (ground included) and ``semantic_diversity`` the distinct classes shown.
    """
    height, width = semseg.shape[1:]
    ground_share = (semseg == GROUND_CLASS).flatten(1).float().mean(dim=1)
    instance_ids = int(instances.max()) + 1
    shown_instances = torch.zeros(len(captions), instance_ids, dtype=torch.bool)
    shown_instances.scatter_(1, instances.flatten(1), True)
    shown_classes = torch.zeros(len(captions), len(SEMANTIC_CLASS_NAMES), dtype=torch.bool)
    shown_classes.scatter_(1, semseg.flatten(1), True)
    columns = {
        "colorfulness": image_statistics.colourfulness(rgb).tolist(),
        "brightness": image_statistics.brightness(grey).tolist(),
        "contrast": image_statistics.contrast(grey).tolist(),
        "saturation": image_statistics.saturation(rgb).tolist(),
        "entropy": image_statistics.entropy(grey).tolist(),
        "walkability": ground_share.tolist(),
        "objectness": (1 - ground_share).tolist(),
        "n_sam_instances": shown_instances.sum(dim=1).tolist(),
        "semantic_diversity": shown_classes.sum(dim=1).tolist(),
    }
    records = []
    for scene, text in enumerate(captions):
        values = {"original_width": width, "original_height": height, "caption_n_chars": len(text),
                  "caption_n_words": len(text.split()), "caption_n_sentences": _sentence_count(text),
                  "n_humans": 0, **{key: column[scene] for key, column in columns.items()}}
        records.append({key: float(values[key]) for key in COMPUTED_METADATA})
    return records
