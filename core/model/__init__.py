"""The 4M encoder–decoder transformer and the per-modality embedding layers it is assembled from.

``from mm4m.core.model import FourM, FourMConfig, FourMViT`` — imported lazily so that importing a submodule
(e.g. the embeddings a plugin builds) does not pull in the whole model.
"""

from __future__ import annotations

from mm4m.core.lazy import lazy_attributes

_LAZY = {"FourM": "fourm", "FourMConfig": "config", "FourMViT": "vit"}

__all__ = list(_LAZY)


__getattr__ = lazy_attributes(__name__, _LAZY)
