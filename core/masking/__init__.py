"""Masking policies (spec §4): which tokens are encoder inputs and which are decoder targets.

`UnifiedMasking` is 4M's Dirichlet policy for pre-training, `TransferMasking` the fixed-sets policy for
fine-tuning and inference; both mask a whole batch at once. Configs load without importing torch.
"""

from __future__ import annotations

from mm4m.core.lazy import lazy_attributes

_LAZY = {
    "AlphasMixture": "mm4m.core.masking.config",
    "KeepMode": "mm4m.core.masking.config",
    "MaskingConfig": "mm4m.core.masking.config",
    "ModalityAlphas": "mm4m.core.masking.config",
    "builtin_config_path": "mm4m.core.masking.config",
    "load_alphas_mixture": "mm4m.core.masking.config",
    "MaskingConfigError": "mm4m.core.masking.errors",
    "MaskingError": "mm4m.core.masking.errors",
    "MaskedBatch": "mm4m.core.masking.result",
    "merge_span_masking": "mm4m.core.masking.span",
    "TransferMasking": "mm4m.core.masking.transfer",
    "UnifiedMasking": "mm4m.core.masking.unified",
    "BUILTIN_POLICIES": "mm4m.core.masking.policies",
}

__all__ = list(_LAZY)


__getattr__ = lazy_attributes(__name__, _LAZY)
