"""Row-sparse gradients for the vocabulary tables, summed into dense buffers that live across steps.

A step touches a few hundred rows of each 30k-row table, yet a dense embedding backward allocates and
zero-fills the whole table for every micro-batch. With ``nn.Embedding.sparse`` the backward yields only the
touched rows; `collect` adds each micro-batch's rows into a persistent zero buffer — per micro-batch sum
first, then into the buffer, the order of the dense backward and its accumulation, so the gradients are
bit-identical — `attach` hands the buffers to clipping and AdamW, and `release` re-zeroes just those rows.
AdamW still updates every row of every table that received a gradient (weight decay and moments); a table
without a gradient keeps ``grad = None`` and is skipped, exactly as with dense gradients.
"""

from __future__ import annotations

import torch
from torch import nn


class RowSparseEmbeddingGrads:
    """Switches every ``nn.Embedding`` of ``model`` to sparse gradients and manages their dense buffers."""

    def __init__(self, model: nn.Module):
        tables = {id(m.weight): m.weight for m in model.modules() if isinstance(m, nn.Embedding)}
        self._tables = list(tables.values())
        for module in model.modules():
            if isinstance(module, nn.Embedding):
                module.sparse = True
        self._buffers: dict[int, torch.Tensor] = {}
        self._touched: dict[int, list[torch.Tensor]] = {}

    def collect(self) -> None:
        """Add the sparse gradients of the last backward into the buffers (call after every micro-batch)."""
        for weight in self._tables:
            grad = weight.grad
            if grad is None or not grad.is_sparse:
                continue
            rows, slots = torch.unique(grad._indices()[0], return_inverse=True)
            micro_batch_sum = grad._values().new_zeros(len(rows), *weight.shape[1:])
            micro_batch_sum.index_add_(0, slots, grad._values())  # duplicates summed in order, as the dense backward
            buffer = self._buffers.get(id(weight))
            if buffer is None:
                buffer = self._buffers[id(weight)] = torch.zeros_like(weight)
            buffer.index_add_(0, rows, micro_batch_sum)
            self._touched.setdefault(id(weight), []).append(rows)
            weight.grad = None

    def attach(self) -> None:
        """Make each buffer the ``grad`` of its table, for tables that got a gradient this step."""
        for weight in self._tables:
            if id(weight) in self._touched:
                weight.grad = self._buffers[id(weight)]

    def release(self) -> None:
        """Zero the rows written this step and detach the buffers (call after the optimizer step)."""
        for weight in self._tables:
            rows = self._touched.pop(id(weight), None)
            if rows is not None:
                self._buffers[id(weight)].index_fill_(0, torch.cat(rows), 0)
            weight.grad = None
