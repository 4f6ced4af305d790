"""The encoder passes a step's classifier-free guidance needs, and how their logits combine (spec §5.7)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import nn

from mm4m.core.generation.decoder_runner import DEFAULT_CACHE_CAPACITY, DecoderRunner
from mm4m.core.generation.guidance import guided_logits, multi_guided_logits
from mm4m.core.generation.model_passes import encode
from mm4m.core.generation.sample_dict import Entry, without_conditions
from mm4m.core.generation.schedule import ScheduleStep


class GuidedDecoder:
    """One decoder runner per pass: conditional (or one per condition for weighted multi-condition guidance)
    and, when guidance is active, unconditional; `logits` evaluates a pass-wise function and combines it.
    ``cache_capacity``: positions each runner's self-attention cache is preallocated for."""

    def __init__(self, model: nn.Module, sample: Mapping[str, Entry], step: ScheduleStep, *,
                 cache_capacity: int = DEFAULT_CACHE_CAPACITY):
        self.scale = step.cfg_scale
        domains = step.cfg_cond_domains
        if isinstance(self.scale, tuple):
            if len(self.scale) != len(domains):
                raise ValueError(f"step for '{step.target_domain}': multi-condition guidance needs one weight per "
                                 f"condition {list(domains)}, found {len(self.scale)} weights")
            samples = [without_conditions(sample, model.specs, [d for d in domains if d != kept]) for kept in domains]
        else:
            samples = [sample]
        self.guided = isinstance(self.scale, tuple) or (self.scale != 1 and bool(domains))
        if self.guided:
            samples.append(without_conditions(sample, model.specs, domains))
        self.runners = [DecoderRunner(model, encode(model, s), cache_capacity=cache_capacity) for s in samples]

    def logits(self, per_pass: Callable[[DecoderRunner], torch.Tensor]) -> torch.Tensor:
        """``per_pass`` on every runner, combined: conditional only, ``uncond + (cond − uncond)·scale``, or the
        weighted multi-condition sum."""
        outputs = [per_pass(runner) for runner in self.runners]
        if not self.guided:
            return outputs[0]
        *conditionals, unconditional = outputs
        if isinstance(self.scale, tuple):
            return multi_guided_logits(conditionals, unconditional, self.scale)
        return guided_logits(conditionals[0], unconditional, self.scale)
