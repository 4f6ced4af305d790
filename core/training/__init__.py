"""Training: the validated run config, the training loop (`train`), checkpoints with exact resume.

Names load lazily so that ``mm4m train --help`` does not import torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "TrainConfig": "mm4m.core.training.config",
    "TrainConfigError": "mm4m.core.training.config",
    "train": "mm4m.core.training.trainer",
    "TrainResult": "mm4m.core.training.trainer",
    "RunExistsError": "mm4m.core.training.trainer",
    "ResumeError": "mm4m.core.training.checkpoints",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mm4m.core.training' has no attribute {name!r}")
