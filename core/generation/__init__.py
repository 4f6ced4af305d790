"""Any-to-any generation (spec §5): schedules, sampling, MaskGIT, ROAR, autoregressive decoding, plans.

Names are imported lazily: plans and schedules do not import torch; the sampler and sampling do.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "cosine_schedule": "token_schedules",
    "linear_schedule": "token_schedules",
    "TokenSchedule": "token_schedules",
    "TemperatureSchedule": "temperature_schedules",
    "ScheduleStep": "schedule",
    "TargetDecoding": "schedule",
    "compile_schedule": "schedule",
    "GenerationPlan": "plan",
    "TargetPlan": "plan",
    "ReferenceGenerationSettings": "reference_settings",
    "load_reference_settings": "reference_settings",
    "GenerationSettingsError": "errors",
    "sample_tokens": "sampling",
    "full_input": "sample_dict",
    "empty_target": "sample_dict",
    "prompted_target": "sample_dict",
    "initial_sample": "sample_dict",
    "GenerationSampler": "sampler",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"mm4m.core.generation.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'mm4m.core.generation' has no attribute {name!r}")
