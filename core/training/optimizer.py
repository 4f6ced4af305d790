"""AdamW over the model's parameters, without weight decay on norms, biases and position/modality embeddings."""

from __future__ import annotations

from torch import nn
from torch.optim import AdamW

from mm4m.core.training.config import OptimSection

NO_DECAY_NAMES = ("pos_emb", "mod_emb", "mask_token", "register_tokens")
"""Parameter-name parts excluded from weight decay, besides every 1-D parameter (norm weights, biases)."""


def decays(name: str, ndim: int) -> bool:
    """Whether weight decay applies to parameter ``name``."""
    return ndim > 1 and not any(part in name.split(".") for part in NO_DECAY_NAMES)


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two AdamW groups: decayed and not decayed (trainable parameters only, shared ones once)."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    return [{"params": [p for n, p in named if decays(n, p.ndim)], "weight_decay": weight_decay},
            {"params": [p for n, p in named if not decays(n, p.ndim)], "weight_decay": 0.0}]


def build_optimizer(model: nn.Module, optim: OptimSection) -> AdamW:
    """AdamW with the config's betas/eps; ``fused`` (default) and ``foreach`` are torch's multi-tensor kernels,
    ``for-loop`` the per-parameter reference path. The lr is set by the schedule before every step."""
    flags = {"fused": {"fused": True}, "foreach": {"foreach": True}, "for-loop": {"foreach": False}}
    return AdamW(parameter_groups(model, optim.weight_decay), lr=0.0, betas=optim.betas, eps=optim.eps,
                 **flags[optim.implementation])
