"""Training: the validated run config, the training loop (`train`), checkpoints with exact resume.

Names load lazily so that ``mm4m train --help`` does not import torch.
"""

from __future__ import annotations

from mm4m.core.lazy import lazy_attributes

_LAZY = {
    "TrainConfig": "mm4m.core.training.config",
    "TrainConfigError": "mm4m.core.training.config",
    "train": "mm4m.core.training.trainer",
    "TrainResult": "mm4m.core.training.trainer",
    "RunExistsError": "mm4m.core.training.trainer",
    "ResumeError": "mm4m.core.training.checkpoints",
}

__all__ = list(_LAZY)


__getattr__ = lazy_attributes(__name__, _LAZY)
