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
from mm4m.registry.errors import UnknownModalityError
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


def selected_specs(names: Iterable[str] = ()) -> dict[str, ModalitySpec]:
    """Specs of the modalities ``names`` selects, or all installed ones when it is empty. A name is a key, or
    a plugin's entry-point or distribution name standing for every key it serves."""
    from mm4m.registry import get_registry

    installed = installed_specs()
    plugins = get_registry().plugins
    selected: dict[str, ModalitySpec] = {}
    for name in names:
        keys = [name] if name in installed else [
            key for plugin in plugins if name in (plugin.name, plugin.distribution) for key in plugin.keys
            if key in installed]
        if not keys:
            serving = sorted(p.distribution for p in plugins if any(k in installed for k in p.keys))
            raise UnknownModalityError(f"expected a modality key or a plugin name, found {name!r}; "
                                       f"keys: {', '.join(installed)}; plugins: {', '.join(serving)}")
        selected.update((key, installed[key]) for key in keys)
    return selected or installed


def policy_factories(only: Iterable[str] = ()) -> dict[str, PolicyFactory]:
    """Every registered masking policy (mm4m's, plugins', in-process ones), or just those named in ``only``."""
    from mm4m.registry import get_registry

    registry = get_registry()
    names = list(only) or registry.masking_policy_names()
    return {name: registry.masking_policy_factory(name) for name in names}


def conformance_set(specs: Iterable[ModalitySpec]) -> list[ModalitySpec]:
    """The modalities a conformance case masks: ``specs`` plus the companion, unless it is among them."""
    chosen = list(specs)
    return chosen if any(s.key == COMPANION.key for s in chosen) else [*chosen, COMPANION]


def check_policy(policy: MaskingPolicy, batch: Mapping[str, Any], specs: Sequence[ModalitySpec], seed: int) -> None:
    """Run ``policy`` on ``batch`` and check every invariant its output allows (budgets for built-ins)."""
    by_key = {s.key: s for s in specs}
    output = policy(batch, generator=torch.Generator().manual_seed(seed))
    if not isinstance(output, Mapping):
        raise TypeError(f"{type(policy).__name__} returned {type(output).__name__}, expected a dict of modalities")
    check_mod_dict(output, by_key)
    if isinstance(policy, UnifiedMasking | TransferMasking):
        check_masked_batch(policy.mask(batch, generator=torch.Generator().manual_seed(seed)), by_key)
