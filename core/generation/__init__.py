"""Any-to-any generation (spec §5): schedules, sampling, MaskGIT, ROAR, autoregressive decoding, plans.

Names are imported lazily: plans and schedules do not import torch; the sampler and sampling do.
"""

from __future__ import annotations

from mm4m.core.lazy import lazy_attributes

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


__getattr__ = lazy_attributes(__name__, _LAZY)
