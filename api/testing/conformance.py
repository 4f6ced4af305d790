"""The conformance suite's building blocks: which modalities and policies are installed, and how one
policy output is checked. `mm4m.testing.pytest_plugin` turns them into tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import torch

from mm4m.core.interfaces import MaskingPolicy
from mm4m.core.masking.policies import PolicyFactory
from mm4m.core.masking.transfer import TransferMasking
from mm4m.core.masking.unified import UnifiedMasking
from mm4m.core.spec import ModalitySpec
from mm4m.testing.invariants import check_masked_batch, check_mod_dict

COMPANION = ModalitySpec(
    key="mm4m_conformance_text", kind="text_sequence", max_tokens=16, vocab_size=30000,
    positional_embedding="sincos_1d", decoding="autoregressive",
    tokenizer={"family": "wordpiece", "id": "mm4m-conformance"},
)
"""A small text modality added to every tested set, so each set has an input and a target candidate."""


def installed_specs() -> dict[str, ModalitySpec]:
    """Specs of every modality the registry knows: installed plugins and in-process registrations."""
    from mm4m.registry import get_registry

    return get_registry().specs()


def policy_factories(only: Iterable[str] = ()) -> dict[str, PolicyFactory]:
    """Every registered masking policy (mm4m's, plugins', in-process ones), or just those named in ``only``."""
    from mm4m.registry import get_registry

    registry = get_registry()
    names = list(only) or registry.masking_policy_names()
    return {name: registry.masking_policy_factory(name) for name in names}


def conformance_set(spec: ModalitySpec) -> list[ModalitySpec]:
    """The modalities a single-modality conformance case masks: ``spec`` plus the companion."""
    return [spec] if spec.key == COMPANION.key else [spec, COMPANION]


def check_policy(policy: MaskingPolicy, batch: Mapping[str, Any], specs: Sequence[ModalitySpec], seed: int) -> None:
    """Run ``policy`` on ``batch`` and check every invariant its output allows (budgets for built-ins)."""
    by_key = {s.key: s for s in specs}
    output = policy(batch, generator=torch.Generator().manual_seed(seed))
    if not isinstance(output, Mapping):
        raise TypeError(f"{type(policy).__name__} returned {type(output).__name__}, expected a dict of modalities")
    check_mod_dict(output, by_key)
    if isinstance(policy, UnifiedMasking | TransferMasking):
        check_masked_batch(policy.mask(batch, generator=torch.Generator().manual_seed(seed)), by_key)
