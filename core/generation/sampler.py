"""`GenerationSampler`: runs a schedule of MaskGIT / ROAR / autoregressive steps on one evolving sample dict."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import torch
from torch import nn

from mm4m.core.generation.autoregressive import autoregressive_step
from mm4m.core.generation.grid_steps import grid_step
from mm4m.core.generation.sample_dict import Entry, SampleDict
from mm4m.core.generation.schedule import ScheduleStep
from mm4m.core.spec import DecodingStrategy


class GenerationSampler:
    """Any-to-any chained generation with a `FourM` model (spec §5): each step's committed tokens are inputs of
    every later step. ``use_kv_cache`` decodes sequences with a self-attention key/value cache (same tokens)."""

    def __init__(self, model: nn.Module, *, use_kv_cache: bool = True):
        self.model = model
        self.use_kv_cache = use_kv_cache

    @torch.no_grad()
    def generate(self, sample: Mapping[str, Entry], schedule: Sequence[ScheduleStep], *, top_k: int | float = 0,
                 top_p: float = 0.0, seed: int | None = None) -> SampleDict:
        """Run every step; returns the final sample dict (the input is not modified)."""
        state = dict(sample)
        for state in self.generate_iter(sample, schedule, top_k=top_k, top_p=top_p, seed=seed):
            pass
        return state

    @torch.no_grad()
    def generate_iter(self, sample: Mapping[str, Entry], schedule: Sequence[ScheduleStep], *,
                      top_k: int | float = 0, top_p: float = 0.0, seed: int | None = None) -> Iterator[SampleDict]:
        """Yield the sample dict after each step. Step ``s`` draws from a generator seeded with ``seed + s``
        (the global RNG when ``seed`` is None)."""
        state: SampleDict = {key: dict(entry) for key, entry in sample.items()}
        for index, step in enumerate(schedule):
            self._check(state, step, index)
            generator = None
            if seed is not None:
                generator = torch.Generator(device=self.model.mask_token.device).manual_seed(seed + index)
            options = {"top_k": top_k, "top_p": top_p, "generator": generator}
            if step.scheme is DecodingStrategy.AUTOREGRESSIVE:
                state = autoregressive_step(self.model, state, step, use_cache=self.use_kv_cache, **options)
            else:
                state = grid_step(self.model, state, step, **options)
            yield state

    def _check(self, state: SampleDict, step: ScheduleStep, index: int) -> None:
        """The step's target must be in the sample, a decoder modality of the model, and fit the scheme."""
        key = step.target_domain
        where = f"schedule step {index} ({step.scheme.value} '{key}')"
        if key not in state:
            raise KeyError(f"{where}: the sample has no entry for the target; add an empty target "
                           f"(found {sorted(state)})")
        if key not in self.model.decoder_embeddings:
            targets = sorted(self.model.decoder_embeddings)
            raise ValueError(f"{where}: the model cannot generate it (targets: {targets})")
        is_grid = self.model.specs[key].kind.is_image
        if is_grid == (step.scheme is DecodingStrategy.AUTOREGRESSIVE):
            expected = "maskgit or roar" if is_grid else "autoregressive"
            raise ValueError(f"{where}: expected scheme {expected} for this modality, found {step.scheme.value}")
        missing = [d for d in step.cfg_cond_domains if d not in state]
        if missing:
            raise KeyError(f"{where}: guidance conditions {missing} are not in the sample (found {sorted(state)})")
