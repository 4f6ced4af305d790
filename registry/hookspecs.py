"""The pluggy hooks a plugin module implements (mark implementations with `hookimpl`)."""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from mm4m.core.interfaces import MaskingPolicy, Modality, Tokenizer

PROJECT = "mm4m"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def mm4m_modalities() -> list[Modality]:
    """The modalities this plugin provides; their specs must equal those in its manifest."""


@hookspec
def mm4m_tokenizers() -> dict[str, Callable[..., Tokenizer]]:
    """Tokenizer factories by tokenizer id (the ``tokenizer.id`` a spec names)."""


@hookspec
def mm4m_masking_policies() -> dict[str, Callable[..., MaskingPolicy]]:
    """Masking-policy factories by name."""
