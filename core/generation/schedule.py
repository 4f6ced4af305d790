"""Schedule steps (spec §5.1) and their compilation from per-target decoding settings (spec §5.2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mm4m.core.generation.temperature_schedules import TemperatureSchedule
from mm4m.core.generation.token_schedules import TokenSchedule, linear_schedule, token_counts
from mm4m.core.spec import DecodingStrategy

GuidanceScale = float | tuple[float, ...]
"""A classifier-free guidance scale, or one weight per condition (multi-condition guidance)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScheduleStep(_Frozen):
    """One step of a generation schedule: which target, how, how many tokens, at which temperature and guidance."""

    target_domain: str
    scheme: DecodingStrategy
    num_tokens: int | None = Field(description="Tokens committed by the step; None for autoregressive steps.")
    temperature: float = Field(ge=0)
    cfg_scale: GuidanceScale = 1.0
    cfg_cond_domains: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _tokens_match_scheme(self) -> ScheduleStep:
        autoregressive = self.scheme is DecodingStrategy.AUTOREGRESSIVE
        if autoregressive and self.num_tokens is not None:
            raise ValueError(f"step for '{self.target_domain}': autoregressive steps have num_tokens None, "
                             f"found {self.num_tokens}")
        if not autoregressive and (self.num_tokens is None or self.num_tokens < 0):
            raise ValueError(f"step for '{self.target_domain}': {self.scheme.value} needs num_tokens >= 0, "
                             f"found {self.num_tokens}")
        return self

    def as_reference_dict(self) -> dict[str, Any]:
        """The reference's step dict (scheme as a string, lists instead of tuples)."""
        scale = list(self.cfg_scale) if isinstance(self.cfg_scale, tuple) else self.cfg_scale
        return {"target_domain": self.target_domain, "scheme": self.scheme.value, "num_tokens": self.num_tokens,
                "temperature": self.temperature, "cfg_scale": scale, "cfg_cond_domains": list(self.cfg_cond_domains)}


class TargetDecoding(_Frozen):
    """Fully resolved decoding settings of one target modality; both plan formats compile through this."""

    domain: str
    scheme: DecodingStrategy
    num_tokens: int | None = Field(None, ge=1, description="Tokens of the target; needed for maskgit and roar.")
    steps: int = Field(1, ge=1)
    token_schedule: TokenSchedule = TokenSchedule.COSINE
    temperature: float = Field(1.0, ge=0)
    temperature_schedule: TemperatureSchedule = TemperatureSchedule(kind="constant")
    cfg_scale: GuidanceScale = 1.0

    @model_validator(mode="after")
    def _grid_has_tokens(self) -> TargetDecoding:
        if self.scheme is not DecodingStrategy.AUTOREGRESSIVE and self.num_tokens is None:
            raise ValueError(f"target '{self.domain}': {self.scheme.value} needs 'num_tokens'")
        return self

    def steps_for(self, cond_domains: tuple[str, ...]) -> list[ScheduleStep]:
        """This target's steps: one autoregressive step, or the token/temperature schedules of MaskGIT / ROAR."""
        common = {"target_domain": self.domain, "scheme": self.scheme, "cfg_scale": self.cfg_scale,
                  "cfg_cond_domains": cond_domains}
        if self.scheme is DecodingStrategy.AUTOREGRESSIVE:
            return [ScheduleStep(num_tokens=None, temperature=self.temperature, **common)]
        if self.scheme is DecodingStrategy.ROAR:
            counts = linear_schedule(self.steps, self.num_tokens)
        else:
            counts = token_counts(self.token_schedule, self.steps, self.num_tokens)
        temperatures = self.temperature_schedule.temperatures(self.temperature, counts)
        return [ScheduleStep(num_tokens=n, temperature=t, **common) for n, t in zip(counts, temperatures)]


def compile_schedule(conditions: Sequence[str], targets: Sequence[TargetDecoding], *,
                     grow_conditioning: bool) -> list[ScheduleStep]:
    """Chain the targets in order; with ``grow_conditioning`` each finished image-like target joins the
    guidance conditions of later steps (sequence targets never do, as in the reference)."""
    cond_domains = tuple(conditions)
    steps: list[ScheduleStep] = []
    for target in targets:
        steps.extend(target.steps_for(cond_domains))
        if grow_conditioning and target.scheme is not DecodingStrategy.AUTOREGRESSIVE:
            cond_domains = (*cond_domains, target.domain)
    return steps
