"""Token budgets → optimizer steps, and the learning-rate schedule: linear warm-up, then cosine decay."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mm4m.core.training.config import TrainConfig

LR_REFERENCE_BATCH = 256
"""lr = blr · global batch / 256 (spec §3.4)."""


@dataclass(frozen=True)
class StepBudget:
    """How many optimizer steps the token budgets buy at this global batch and token count per sample."""

    global_batch_size: int
    tokens_per_step: int
    warmup_steps: int
    total_steps: int

    @classmethod
    def from_config(cls, config: TrainConfig, world_size: int) -> StepBudget:
        batch = config.batch.batch_size * config.batch.accumulation_steps * world_size
        per_step = batch * (config.data.num_input_tokens + config.data.num_target_tokens)
        total = config.optim.total_tokens // per_step
        if total < 1:
            raise ValueError(f"optim.total_tokens {config.optim.total_tokens} is less than one step "
                             f"({per_step} tokens = {batch} samples × (input + target tokens))")
        return cls(batch, per_step, min(config.optim.warmup_tokens // per_step, total), total)


@dataclass(frozen=True)
class CosineSchedule:
    """Per-step lr: ``peak · t / (W − 1)`` during the W warm-up steps, then cosine from peak to ``final``."""

    peak: float
    final: float
    warmup_steps: int
    total_steps: int

    @classmethod
    def from_config(cls, config: TrainConfig, budget: StepBudget) -> CosineSchedule:
        scale = budget.global_batch_size / LR_REFERENCE_BATCH
        return cls(config.optim.blr * scale, config.optim.min_blr * scale, budget.warmup_steps, budget.total_steps)

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.peak * step / max(self.warmup_steps - 1, 1)
        decay_steps = self.total_steps - self.warmup_steps
        progress = min((step - self.warmup_steps) / decay_steps, 1.0) if decay_steps > 0 else 1.0
        return self.final + 0.5 * (self.peak - self.final) * (1 + math.cos(math.pi * progress))
