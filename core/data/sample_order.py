"""Which samples make up each micro-batch: a seeded, epoch-wise shuffled stream split over steps, ranks and
gradient-accumulation micro-batches, identical whatever the number of processes or loader workers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=2)
def epoch_permutation(num_samples: int, seed: int, epoch: int) -> np.ndarray:
    """The sample order of one pass over the dataset."""
    return np.random.default_rng([seed, epoch]).permutation(num_samples)


def stream_samples(num_samples: int, seed: int, start: int, count: int) -> np.ndarray:
    """Sample indices at positions ``[start, start + count)`` of the endless stream of shuffled epochs."""
    positions = np.arange(start, start + count)
    epochs, offsets = np.divmod(positions, num_samples)
    return np.array([epoch_permutation(num_samples, seed, int(e))[o] for e, o in zip(epochs, offsets, strict=True)],
                    dtype=np.int64)


@dataclass(frozen=True)
class BatchPlan:
    """A global batch of ``micro_batch_size · world_size · accumulation_steps`` samples per optimizer step.

    Micro-batch ``j = rank · accumulation_steps + a`` of step ``s`` holds stream positions
    ``s·G + j·b … s·G + (j+1)·b``: one process accumulating two micro-batches sees the same samples as
    two processes with one each.
    """

    micro_batch_size: int
    world_size: int = 1
    accumulation_steps: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("micro_batch_size", "world_size", "accumulation_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"BatchPlan.{name} must be ≥ 1, found {getattr(self, name)}")

    @property
    def global_batch_size(self) -> int:
        return self.micro_batch_size * self.world_size * self.accumulation_steps

    def micro_batch_index(self, rank: int, accumulation_index: int) -> int:
        """The global index ``j`` of a rank's ``accumulation_index``-th micro-batch within a step."""
        return rank * self.accumulation_steps + accumulation_index

    def samples(self, num_samples: int, step: int, rank: int, accumulation_index: int) -> np.ndarray:
        """Dataset indices of one micro-batch."""
        j = self.micro_batch_index(rank, accumulation_index)
        start = step * self.global_batch_size + j * self.micro_batch_size
        return stream_samples(num_samples, self.seed, start, self.micro_batch_size)

    def masking_seed(self, step: int, rank: int, accumulation_index: int) -> int:
        """Seed of the masking draw of one micro-batch (depends on step and ``j`` only)."""
        j = self.micro_batch_index(rank, accumulation_index)
        return int(np.random.SeedSequence([self.seed, step, j]).generate_state(1, dtype=np.uint64)[0] >> 1)
