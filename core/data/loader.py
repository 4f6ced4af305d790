"""The training loader: this rank's micro-batches, read from a `ShardedDataset` and masked in the loader.

Item ``i`` of `MaskedMicroBatches` is micro-batch ``i % accumulation_steps`` of step ``start_step + i //
accumulation_steps``; its samples come from the `BatchPlan` and its masking draw from a generator seeded
by (seed, step, micro-batch), so the stream is the same for any number of DataLoader workers and resumes
exactly from any step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch.utils.data import DataLoader, Dataset

from mm4m.core.data.sample_order import BatchPlan
from mm4m.core.data.shard_index import ModalityLayout
from mm4m.core.data.shards import ShardedDataset
from mm4m.core.interfaces import MaskingPolicy

ModDict = dict[str, dict[str, torch.Tensor]]


class MicroBatch(NamedTuple):
    """One masked micro-batch and where it sits in training."""

    step: int
    accumulation_index: int
    mod_dict: ModDict


def policy_input(samples: list[dict[str, torch.Tensor]], layouts: dict[str, ModalityLayout],
                 keys: Sequence[str]) -> dict[str, torch.Tensor | list[torch.Tensor]]:
    """Samples → the masking batch: fixed-shape modalities stacked, ragged ones as lists (ints int64, floats fp32)."""
    batch: dict[str, torch.Tensor | list[torch.Tensor]] = {}
    for key in keys:
        values = [s[key].to(torch.float32 if s[key].is_floating_point() else torch.int64) for s in samples]
        batch[key] = values if layouts[key].ragged else torch.stack(values)
    return batch


class MaskedMicroBatches(Dataset[MicroBatch]):
    """Map-style dataset of this rank's masked micro-batches for steps ``[start_step, end_step)``."""

    def __init__(self, dataset: ShardedDataset, policy: MaskingPolicy, plan: BatchPlan, *, rank: int = 0,
                 start_step: int = 0, end_step: int, keys: Sequence[str] | None = None):
        if not 0 <= rank < plan.world_size:
            raise ValueError(f"rank must be in [0, {plan.world_size}), found {rank}")
        self.dataset, self.policy, self.plan, self.rank = dataset, policy, plan, rank
        self.start_step, self.end_step = start_step, end_step
        self.keys = list(keys) if keys is not None else list(dataset.layouts)
        missing = [k for k in self.keys if k not in dataset.layouts]
        if missing:
            raise KeyError(f"{dataset.directory}: the dataset has no modality '{missing[0]}' "
                           f"(it has {sorted(dataset.layouts)})")

    def __len__(self) -> int:
        return max(self.end_step - self.start_step, 0) * self.plan.accumulation_steps

    def __getitem__(self, item: int) -> MicroBatch:
        if not 0 <= item < len(self):
            raise IndexError(f"micro-batch {item} is out of range ({len(self)})")
        step, accumulation_index = divmod(item, self.plan.accumulation_steps)
        step += self.start_step
        indices = self.plan.samples(len(self.dataset), step, self.rank, accumulation_index)
        samples = [self.dataset.sample(int(i), self.keys) for i in indices]
        generator = torch.Generator().manual_seed(self.plan.masking_seed(step, self.rank, accumulation_index))
        mod_dict = self.policy(policy_input(samples, self.dataset.layouts, self.keys), generator=generator)
        return MicroBatch(step, accumulation_index, mod_dict)


def micro_batch_loader(batches: MaskedMicroBatches, *, num_workers: int = 0, prefetch_factor: int = 2
                       ) -> DataLoader[MicroBatch]:
    """A DataLoader over ``batches`` in order (items are whole micro-batches, so no collation)."""
    return DataLoader(batches, batch_size=None, shuffle=False, num_workers=num_workers,
                      prefetch_factor=prefetch_factor if num_workers else None, collate_fn=_identity)


def _identity(item: MicroBatch) -> MicroBatch:
    return item
