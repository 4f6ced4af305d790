"""mm4m: any-to-any multimodal masked modeling (4M / 4M-21) with a plugin registry of modalities.

The public entry points are re-exported lazily here so that ``import mm4m`` stays cheap::

    import mm4m
    mm4m.list_modalities()                       # keys of every installed / registered modality
    mm4m.register_modality({"key": "my_mod", ...})  # add a modality in-process (a notebook, a test)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mm4m.core.lazy import lazy_attributes

__version__ = "0.1.0"

_LAZY = {
    "ModalitySpec": "mm4m.core.spec",
    "ModalityKind": "mm4m.core.spec",
    "SpecError": "mm4m.core.spec",
    "Modality": "mm4m.core.interfaces",
    "Tokenizer": "mm4m.core.interfaces",
    "MaskingPolicy": "mm4m.core.interfaces",
    "get_registry": "mm4m.registry.default",
    "hookimpl": "mm4m.registry.hookspecs",
}

__all__ = ["__version__", "register_modality", "get_modality", "list_modalities", *_LAZY]

if TYPE_CHECKING:  # pragma: no cover
    from mm4m.core.interfaces import Modality


def register_modality(modality: Any, *, replace: bool = False) -> Modality:
    """Register a modality in this process: a `Modality`, a `ModalitySpec` or a spec dict.

    A key that already exists is refused (naming both providers) unless ``replace=True``.
    """
    from mm4m.registry.default import get_registry

    return get_registry().register(modality, replace=replace)


def get_modality(key: str) -> Modality:
    """The `Modality` registered for ``key`` (imports its plugin on first use)."""
    from mm4m.registry.default import get_registry

    return get_registry().get(key)


def list_modalities() -> list[str]:
    """Every available modality key, sorted."""
    from mm4m.registry.default import get_registry

    return get_registry().keys()


__getattr__ = lazy_attributes(__name__, _LAZY)
