"""Per-step sampling temperatures (spec §5.2): ``constant``, ``linear`` and ``onex:{min_t}:{power}``."""

from __future__ import annotations

import itertools
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MIN_TEMPERATURE = 1e-9
"""Scheduled temperatures are clipped from below to this value (as the reference does)."""


class TemperatureSchedule(BaseModel):
    """A parsed temperature schedule; `temperatures` maps a base temperature and token counts to per-step values."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["constant", "linear", "onex"]
    min_temperature: float = Field(0.0, ge=0, description="onex only: the temperature the curve decays to.")
    power: float = Field(1.0, gt=0, description="onex only: exponent of the y = x^-power curve.")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        """Accept the reference's text form: ``constant``, ``linear`` or ``onex:{min_t}:{power}``."""
        if not isinstance(data, str):
            return data
        expected = "expected 'constant', 'linear' or 'onex:{min_t}:{power}'"
        name, *args = data.strip().split(":")
        if name in ("constant", "linear") and not args:
            return {"kind": name}
        if name == "onex" and len(args) == 2:
            try:
                return {"kind": "onex", "min_temperature": float(args[0]), "power": float(args[1])}
            except ValueError:
                raise ValueError(f"temperature schedule {data!r}: min_t and power must be numbers; "
                                 f"{expected}") from None
        raise ValueError(f"unknown temperature schedule {data!r}: {expected}")

    @classmethod
    def parse(cls, text: str) -> TemperatureSchedule:
        """The schedule written as ``text``."""
        return cls.model_validate(text)

    def __str__(self) -> str:
        if self.kind == "onex":
            return f"onex:{self.min_temperature}:{self.power}"
        return self.kind

    def temperatures(self, temperature: float, counts: list[int]) -> list[float]:
        """One temperature per step of a schedule committing ``counts`` tokens per step."""
        if self.kind == "constant":
            return [temperature] * len(counts)
        total = sum(counts)
        decoded_before = [0, *itertools.accumulate(counts)][:-1]
        if self.kind == "linear":
            return [max(temperature * (total - done) / total, MIN_TEMPERATURE) for done in decoded_before]
        return self._onex(temperature, counts)

    def _onex(self, temperature: float, counts: list[int]) -> list[float]:
        """Curve y = x^-power on linspace(1, 100, n), min-max normalised, read at the *step* index (reference quirk)
        and scaled by the fraction still to decode after the step."""
        total = sum(counts)
        spacing = 99 / (total - 1) if total > 1 else 0.0
        curve = [(1 + i * spacing) ** -self.power for i in range(total - 1)] + [100.0 ** -self.power]
        low, high = min(curve), max(curve)
        normalised = [(y - low) / (high - low) if high > low else 1.0 for y in curve]
        decoded_after = list(itertools.accumulate(counts))
        return [
            max(self.min_temperature + (temperature - self.min_temperature) * normalised[step] * (1 - done / total),
                MIN_TEMPERATURE)
            for step, done in enumerate(decoded_after)
        ]
