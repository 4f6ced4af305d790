"""The built-in masking policies by name, as factories over a set of modality specs.

A policy factory takes the specs to mask and returns a policy with sensible defaults; this is the
signature the conformance suite (`mm4m.testing`) calls plugin-provided factories with as well.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mm4m.core.interfaces import MaskingPolicy
from mm4m.core.masking.transfer import TransferMasking
from mm4m.core.masking.unified import UnifiedMasking
from mm4m.core.spec import ModalitySpec

PolicyFactory = Callable[[Sequence[ModalitySpec]], MaskingPolicy]

DEFAULT_INPUT_TOKENS = 128
DEFAULT_TARGET_TOKENS = 128


def unified_policy(specs: Sequence[ModalitySpec]) -> UnifiedMasking:
    """All-to-all Dirichlet masking (α = 1) with 128 input and 128 target tokens."""
    return UnifiedMasking.for_specs(specs, num_input_tokens=DEFAULT_INPUT_TOKENS,
                                    num_target_tokens=DEFAULT_TARGET_TOKENS)


def transfer_policy(specs: Sequence[ModalitySpec]) -> TransferMasking:
    """Transfer masking: modalities that cannot be targets, and every other one in key order, are inputs."""
    ordered = sorted(specs, key=lambda s: s.key)
    inputs = [s.key for i, s in enumerate(ordered) if s.can_be_input and (i % 2 == 0 or not s.can_be_target)]
    targets = [s.key for s in ordered if s.key not in inputs and s.can_be_target]
    return TransferMasking(inputs, targets, specs)


BUILTIN_POLICIES: dict[str, PolicyFactory] = {"unified": unified_policy, "transfer": transfer_policy}
"""Name → factory of the policies mm4m ships (plugins add theirs through ``mm4m_masking_policies``)."""
