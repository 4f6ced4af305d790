"""Classifier-free guidance arithmetic (spec §5.7): single- and multi-condition weighted logits."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def guided_logits(conditional: torch.Tensor, unconditional: torch.Tensor, scale: float) -> torch.Tensor:
    """``uncond + (cond − uncond)·scale``."""
    return unconditional + (conditional - unconditional) * scale


def multi_guided_logits(conditionals: Sequence[torch.Tensor], unconditional: torch.Tensor,
                        weights: Sequence[float]) -> torch.Tensor:
    """``uncond + Σ_i w_i·(cond_i − uncond)``; one weight per conditional pass."""
    if len(conditionals) != len(weights):
        raise ValueError(f"multi-condition guidance: expected one weight per condition "
                         f"({len(conditionals)}), found {len(weights)}")
    guided = unconditional
    for conditional, weight in zip(conditionals, weights):
        guided = guided + (conditional - unconditional) * weight
    return guided
