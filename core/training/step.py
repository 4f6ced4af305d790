"""One optimizer step: forward/backward over the accumulated micro-batches, clipping, AdamW update."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from mm4m.core.data.loader import ModDict
from mm4m.core.training.distributed import gradient_sync
from mm4m.core.training.embedding_grads import RowSparseEmbeddingGrads


@dataclass(frozen=True)
class StepOptions:
    """What every step needs besides the data: token budgets, loss type, clipping and autocast."""

    num_input_tokens: int
    num_target_tokens: int
    loss_type: Literal["mod", "token"] = "mod"
    clip_grad: float | None = None
    autocast_dtype: torch.dtype | None = None  # bf16 on GPU; None = full precision


@dataclass(frozen=True)
class StepResult:
    """Mean loss over the micro-batches, per-modality means, and the gradient norm before clipping."""

    loss: torch.Tensor
    modality_losses: dict[str, torch.Tensor]
    grad_norm: torch.Tensor | None


def move_to(mod_dict: ModDict, device: torch.device) -> ModDict:
    return {key: {name: t.to(device, non_blocking=True) for name, t in entry.items()}
            for key, entry in mod_dict.items()}


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, micro_batches: Sequence[ModDict],
               options: StepOptions, *, device: torch.device, lr: float,
               sparse_grads: RowSparseEmbeddingGrads | None = None) -> StepResult:
    """Accumulate the gradient of the mean micro-batch loss (synchronised on the last one), clip, step."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    count = len(micro_batches)
    total = torch.zeros((), device=device)
    per_modality: dict[str, torch.Tensor] = {}
    for index, mod_dict in enumerate(micro_batches):
        with gradient_sync(model, index == count - 1):
            with torch.autocast(device.type, dtype=options.autocast_dtype or torch.float32,
                                enabled=options.autocast_dtype is not None):
                loss, losses = model(move_to(mod_dict, device), options.num_input_tokens,
                                     options.num_target_tokens, loss_type=options.loss_type)
            (loss / count).backward()
        if sparse_grads is not None:
            sparse_grads.collect()
        total += loss.detach() / count
        for key, value in losses.items():
            per_modality[key] = per_modality.get(key, 0) + value.detach() / count
    if sparse_grads is not None:
        sparse_grads.attach()
    grad_norm = None
    if options.clip_grad is not None:
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), options.clip_grad)
    optimizer.step()
    if sparse_grads is not None:
        sparse_grads.release()
    optimizer.zero_grad(set_to_none=True)
    return StepResult(total, per_modality, grad_norm)
