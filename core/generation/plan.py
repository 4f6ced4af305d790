"""mm4m's declarative generation plan: conditions, targets in order, and per-target decoding settings.

A plan names only what differs from the defaults: a target's scheme defaults to its modality spec's
``decoding`` and a grid target's token count to the spec's ``max_tokens``. `GenerationPlan.schedule`
compiles it into the same `ScheduleStep` list as the reference settings.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mm4m.core.generation.errors import GenerationSettingsError
from mm4m.core.generation.schedule import GuidanceScale, ScheduleStep, TargetDecoding, compile_schedule
from mm4m.core.generation.temperature_schedules import TemperatureSchedule
from mm4m.core.generation.token_schedules import TokenSchedule
from mm4m.core.spec import DecodingStrategy, ModalitySpec

SpecLookup = Callable[[str], ModalitySpec]


class TargetPlan(BaseModel):
    """How to generate one target; unset ``scheme`` / ``num_tokens`` come from the modality spec."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    domain: str
    scheme: DecodingStrategy | None = None
    num_tokens: int | None = Field(None, ge=1)
    steps: int = Field(1, ge=1)
    token_schedule: TokenSchedule = TokenSchedule.COSINE
    temperature: float = Field(1.0, ge=0)
    temperature_schedule: TemperatureSchedule = TemperatureSchedule(kind="constant")
    guidance: GuidanceScale = 1.0

    def resolve(self, spec: ModalitySpec) -> TargetDecoding:
        """Fill the defaults from ``spec`` and check the scheme and token count fit the modality."""
        if not spec.can_be_target:
            raise ValueError(f"target '{self.domain}': the modality cannot be generated (can_be_target is false)")
        scheme = self.scheme or spec.decoding
        grid = spec.kind.is_image
        if grid == (scheme is DecodingStrategy.AUTOREGRESSIVE):
            expected = "maskgit or roar" if grid else "autoregressive"
            raise ValueError(f"target '{self.domain}': scheme must be {expected} for kind '{spec.kind.value}', "
                             f"found {scheme.value}")
        if scheme is DecodingStrategy.AUTOREGRESSIVE and self.steps != 1:
            raise ValueError(f"target '{self.domain}': autoregressive decoding takes 1 step, found steps={self.steps}")
        num_tokens = self.num_tokens if self.num_tokens is not None else spec.max_tokens
        if num_tokens > spec.max_tokens:
            raise ValueError(f"target '{self.domain}': num_tokens must be <= {spec.max_tokens}, found {num_tokens}")
        return TargetDecoding(domain=self.domain, scheme=scheme, num_tokens=num_tokens if grid else None,
                              steps=self.steps, token_schedule=self.token_schedule, temperature=self.temperature,
                              temperature_schedule=self.temperature_schedule, cfg_scale=self.guidance)


class GenerationPlan(BaseModel):
    """Conditions, targets generated in order (each then conditions the next), sampling options and seed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    conditions: list[str] = Field(default_factory=list, description="Modalities given as (full) inputs.")
    targets: list[TargetPlan] = Field(min_length=1)
    grow_guidance_conditions: bool = Field(
        True, description="Each finished grid target joins the guidance conditions of later steps.")
    top_k: int | float = Field(0, ge=0)
    top_p: float = Field(0.0, ge=0, le=1)
    seed: int | None = None

    @field_validator("targets", mode="before")
    @classmethod
    def _bare_names(cls, value: Any) -> Any:
        """A target may be just its modality key."""
        return [{"domain": t} if isinstance(t, str) else t for t in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _distinct_domains(self) -> GenerationPlan:
        seen = list(self.conditions)
        for target in self.targets:
            if target.domain in seen:
                role = "a condition" if target.domain in self.conditions else "an earlier target"
                raise ValueError(f"target '{target.domain}' is already {role}")
            seen.append(target.domain)
        return self

    @classmethod
    def parse(cls, data: Any, *, source: str = "generation plan") -> GenerationPlan:
        """Validate ``data``; errors are a `GenerationSettingsError` naming source and field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                field = ".".join(str(part) for part in err["loc"])
                message = err["msg"].removeprefix("Value error, ")
                problems.append(f"field '{field}': {message}" if field else message)
            raise GenerationSettingsError(f"{source}: " + "; ".join(problems)) from None

    @classmethod
    def load(cls, path: str | Path) -> GenerationPlan:
        """Read a plan from a YAML file."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise GenerationSettingsError(f"{path}: cannot read generation plan: {exc}") from None
        return cls.parse(data, source=str(path))

    def schedule(self, spec: SpecLookup | None = None) -> list[ScheduleStep]:
        """Compile into schedule steps; ``spec`` looks up modality specs (default: the plugin registry)."""
        if spec is None:
            from mm4m.registry import get_registry

            spec = get_registry().spec
        resolved = []
        for index, target in enumerate(self.targets):
            try:
                resolved.append(target.resolve(spec(target.domain)))
            except (ValueError, KeyError) as exc:
                raise GenerationSettingsError(f"generation plan: field 'targets.{index}': {exc}") from None
        return compile_schedule(self.conditions, resolved, grow_conditioning=self.grow_guidance_conditions)
