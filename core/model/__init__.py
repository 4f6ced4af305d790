"""The 4M encoder–decoder transformer and the per-modality embedding layers it is assembled from.

``from mm4m.core.model import FourM, FourMConfig, FourMViT`` — imported lazily so that importing a submodule
(e.g. the embeddings a plugin builds) does not pull in the whole model.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {"FourM": "fourm", "FourMConfig": "config", "FourMViT": "vit"}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"mm4m.core.model.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'mm4m.core.model' has no attribute {name!r}")
