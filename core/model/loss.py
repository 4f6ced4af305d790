"""The 4M training losses (spec §2.8): per-modality mean cross-entropy and the two ways to combine them."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F


def modality_losses(logits: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Mean cross-entropy of each modality over its valid rows; 0 for a modality without valid tokens."""
    losses = {}
    for key, rows in logits.items():
        if rows.shape[0] == 0:
            losses[key] = rows.sum() * 0.0  # keeps the graph and device; no NaN from an empty mean
        else:
            losses[key] = F.cross_entropy(rows.to(torch.promote_types(rows.dtype, torch.float32)), targets[key])
    return losses


def combine_losses(losses: dict[str, torch.Tensor], logits: dict[str, torch.Tensor],
                   loss_type: Literal["mod", "token"]) -> torch.Tensor:
    """``mod``: plain mean over modalities (empty ones count); ``token``: weighted by tokens × vocabulary.

    The ``token`` weight is ``logits.numel()`` as in the reference; with no valid token at all it is 0.
    """
    values = torch.stack(list(losses.values()))
    if loss_type == "mod":
        return values.mean()
    weights = torch.tensor([float(logits[k].numel()) for k in losses], device=values.device)
    total = weights.sum()
    return (values * weights).sum() / total if total > 0 else values.sum() * 0.0
