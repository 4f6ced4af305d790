"""The reference's generation-settings YAML (spec §5.2), parsed as is and compiled into schedule steps.

Per-target fields hold one value or hyphen-separated values (``decoding_steps: 49-25``); a single value is
broadcast to every target. Super-resolution settings are the same fields prefixed with ``sr_``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mm4m.core.generation.errors import GenerationSettingsError
from mm4m.core.generation.schedule import ScheduleStep, TargetDecoding, compile_schedule
from mm4m.core.generation.temperature_schedules import TemperatureSchedule
from mm4m.core.generation.token_schedules import TokenSchedule
from mm4m.core.spec import DecodingStrategy

SUPER_RESOLUTION_PREFIX = "sr_"
PER_TARGET_FIELDS = ("tokens_per_target", "autoregression_schemes", "decoding_steps", "token_decoding_schedules",
                     "temps", "temp_schedules", "cfg_scales", "cfg_schedules")
"""Fields with one value per target (or a single broadcast value)."""


def _split_hyphens(value: Any) -> list[Any]:
    """``'a-b'`` → ``['a', 'b']``; a number or bool → ``[value]``; a list is kept."""
    if isinstance(value, str):
        return [part.strip() for part in value.split("-")]
    if isinstance(value, list):
        return value
    return [value]


class ReferenceGenerationSettings(BaseModel):
    """One settings group of a reference generation YAML (spec §5.2), with per-target lists already split."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cond_domains: list[str] = Field(default_factory=list)
    target_domains: list[str] = Field(min_length=1)
    tokens_per_target: list[int | None] = Field(default_factory=lambda: [None])
    autoregression_schemes: list[DecodingStrategy]
    decoding_steps: list[int] = Field(default_factory=lambda: [1])
    token_decoding_schedules: list[TokenSchedule] = Field(default_factory=lambda: [TokenSchedule.COSINE])
    temps: list[float] = Field(default_factory=lambda: [1.0])
    temp_schedules: list[TemperatureSchedule] = Field(default_factory=lambda: [TemperatureSchedule(kind="constant")])
    cfg_scales: list[float] = Field(default_factory=lambda: [1.0])
    cfg_schedules: list[Literal["constant"]] = Field(default_factory=lambda: ["constant"])
    cfg_grow_conditioning: bool = False
    top_p: float = Field(0.0, ge=0, le=1)
    top_k: int | float = Field(0, ge=0)

    @field_validator("cond_domains", "target_domains", *PER_TARGET_FIELDS, mode="before")
    @classmethod
    def _split(cls, value: Any) -> list[Any]:
        return [] if value is None else _split_hyphens(value)

    @model_validator(mode="after")
    def _one_value_or_one_per_target(self) -> ReferenceGenerationSettings:
        n = len(self.target_domains)
        for name in PER_TARGET_FIELDS:
            found = len(getattr(self, name))
            if found not in (1, n):
                raise ValueError(f"'{name}' needs 1 value or {n} hyphen-separated values (one per target of "
                                 f"'{'-'.join(self.target_domains)}'), found {found}")
        return self

    def per_target(self, name: str, index: int) -> Any:
        """Value of a per-target field for target ``index`` (a single value is broadcast)."""
        values = getattr(self, name)
        return values[0] if len(values) == 1 else values[index]

    def targets(self) -> list[TargetDecoding]:
        """Resolved decoding settings of each target, in order."""
        return [
            TargetDecoding(
                domain=domain,
                scheme=self.per_target("autoregression_schemes", i),
                num_tokens=self.per_target("tokens_per_target", i),
                steps=self.per_target("decoding_steps", i),
                token_schedule=self.per_target("token_decoding_schedules", i),
                temperature=self.per_target("temps", i),
                temperature_schedule=self.per_target("temp_schedules", i),
                cfg_scale=self.per_target("cfg_scales", i),
            )
            for i, domain in enumerate(self.target_domains)
        ]

    def schedule(self) -> list[ScheduleStep]:
        """The chained schedule (``build_chained_generation_schedules``)."""
        return compile_schedule(self.cond_domains, self.targets(), grow_conditioning=self.cfg_grow_conditioning)

    @classmethod
    def parse(cls, data: Any, *, source: str = "generation settings", prefix: str = "") -> ReferenceGenerationSettings:
        """Validate the fields of ``data`` that carry ``prefix`` (``''`` or ``'sr_'``); errors name source and field."""
        if not isinstance(data, dict):
            raise GenerationSettingsError(f"{source}: expected a mapping of settings, found {type(data).__name__}")
        other = SUPER_RESOLUTION_PREFIX if prefix == "" else None
        fields = {key.removeprefix(prefix): value for key, value in data.items()
                  if key.startswith(prefix) and not (other and key.startswith(other))}
        try:
            settings = cls.model_validate(fields)
            settings.schedule()
        except (ValidationError, ValueError) as exc:
            raise GenerationSettingsError(f"{source}: {_describe(exc, prefix, fields)}") from None
        return settings


def _describe(exc: Exception, prefix: str, fields: dict[str, Any]) -> str:
    """Name each bad field with its prefix and the value found."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    parts = []
    for err in exc.errors():
        loc = err["loc"]
        message = err["msg"].removeprefix("Value error, ")
        if not loc:
            parts.append(message)
            continue
        found = fields.get(str(loc[0]), "<missing>")
        name = prefix + ".".join(str(part) for part in loc)
        parts.append(f"field '{name}': {message} (found {found!r})")
    return "; ".join(parts)


def load_reference_settings(path: str | Path) -> dict[str, ReferenceGenerationSettings]:
    """Read a reference YAML: ``{'base': ...}`` and/or ``{'super_resolution': ...}`` for its ``sr_`` fields."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise GenerationSettingsError(f"{path}: cannot read generation settings: {exc}") from None
    if not isinstance(data, dict):
        raise GenerationSettingsError(f"{path}: expected a mapping of settings, found {type(data).__name__}")
    groups = {}
    if any(not key.startswith(SUPER_RESOLUTION_PREFIX) for key in data):
        groups["base"] = ReferenceGenerationSettings.parse(data, source=str(path))
    if any(key.startswith(SUPER_RESOLUTION_PREFIX) for key in data):
        groups["super_resolution"] = ReferenceGenerationSettings.parse(data, source=str(path),
                                                                       prefix=SUPER_RESOLUTION_PREFIX)
    return groups
