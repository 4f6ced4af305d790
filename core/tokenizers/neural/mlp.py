"""Bottleneck MLP encoder/decoder of the global-embedding and pose tokenizers (§2.2), applied per pixel."""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

from mm4m.core.tokenizers.neural.presets import MLPPreset


class _Bottleneck(nn.Module):
    """Linear(w → e·w), GELU, Linear(e·w → w); kept in ``block`` so the keys read ``blocks.{i}.block.{0,2}``."""

    def __init__(self, width: int, wide: int):
        super().__init__()
        self.block = nn.Sequential(nn.Linear(width, wide), nn.GELU(), nn.Linear(wide, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class BottleneckMLP(nn.Module):
    """``linear_in``, residual pre-LayerNorm bottleneck blocks, ``linear_out``; 4-D inputs are mapped pointwise."""

    def __init__(self, preset: MLPPreset, *, dim_in: int, dim_out: int):
        super().__init__()
        self.linear_in = nn.Linear(dim_in, preset.width)
        self.blocks = nn.ModuleList(
            _Bottleneck(preset.width, preset.expansion * preset.width) for _ in range(preset.blocks))
        self.layernorms = nn.ModuleList(nn.LayerNorm(preset.width) for _ in range(preset.blocks))
        self.linear_out = nn.Linear(preset.width, dim_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:
            return rearrange(self._channels_last(rearrange(x, "b c h w -> b h w c")), "b h w c -> b c h w")
        return self._channels_last(x)

    def _channels_last(self, x: torch.Tensor) -> torch.Tensor:
        x = self.linear_in(x)
        for block, norm in zip(self.blocks, self.layernorms, strict=True):
            x = x + block(norm(x))
        return self.linear_out(x)
