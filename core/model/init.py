"""MAE-style initialisation of a freshly built model (spec §2.9); checkpoint loading skips it entirely."""

from __future__ import annotations

import math

import torch
from torch import nn

from mm4m.core.model.layers import LayerNorm

EMBEDDING_STD = 0.02
LEARNED_TOKEN_NAMES = ("mod_emb", "mask_token", "register_tokens", "pos_emb")


def _xavier_bound(name: str, linear: nn.Linear) -> float:
    """Xavier-uniform bound; fused qkv / kv projections count their output width per part."""
    out_features, in_features = linear.weight.shape
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "qkv":
        out_features //= 3
    elif leaf == "kv":
        out_features //= 2
    return math.sqrt(6.0 / (out_features + in_features))


@torch.no_grad()
def init_weights(model: nn.Module) -> None:
    """Linear: xavier-uniform (qkv/kv per part), bias 0; LayerNorm 1/0; embeddings and learned tokens N(0, 0.02)."""
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            bound = _xavier_bound(name, module)
            module.weight.uniform_(-bound, bound)
            if module.bias is not None:
                module.bias.zero_()
        elif isinstance(module, LayerNorm):
            module.weight.fill_(1.0)
            module.bias.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.normal_(0.0, EMBEDDING_STD)
    for name, param in model.named_parameters():
        if name.rsplit(".", 1)[-1] in LEARNED_TOKEN_NAMES:
            param.normal_(0.0, EMBEDDING_STD)
