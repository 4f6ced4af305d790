"""ViT encoder and decoder of the VQ-VAE tokenizers (§2.1): pre-norm blocks, stored 2-D pos-emb, tanh post-MLP."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from mm4m.core.tokenizers.neural.convnext import ConvNeXtBlock
from mm4m.core.tokenizers.neural.presets import ViTPreset

LAYER_NORM_EPS = 1e-6


def sincos_pos_emb_2d(dim: int, grid: int) -> torch.Tensor:
    """Fresh (1, dim, grid, grid) table: channel blocks [sin(row·ω), cos(row·ω), sin(col·ω), cos(col·ω)]."""
    if dim % 4:
        raise ValueError(f"2-D sin-cos positional table: expected a width divisible by 4, found {dim}")
    quarter = dim // 4
    omega = 1.0 / 10000 ** (torch.arange(quarter, dtype=torch.float32) / quarter)
    coords = torch.arange(grid, dtype=torch.float32)
    rows = coords[:, None, None] * omega  # (grid, 1, quarter): varies along the first grid axis
    cols = coords[None, :, None] * omega
    rows, cols = rows.expand(grid, grid, quarter), cols.expand(grid, grid, quarter)
    table = torch.cat([rows.sin(), rows.cos(), cols.sin(), cols.cos()], dim=-1)
    return rearrange(table, "h w d -> 1 d h w")


def resized_pos_emb(table: torch.Tensor, grid_h: int, grid_w: int) -> torch.Tensor:
    """The stored table bicubic-resized (align_corners=False, no antialias) to the grid, as (1, h·w, dim) rows."""
    resized = F.interpolate(table, size=(grid_h, grid_w), mode="bicubic", align_corners=False)
    return rearrange(resized, "1 d h w -> 1 (h w) d")


class Attention(nn.Module):
    """Multi-head self-attention with a fused ``qkv`` projection and explicit softmax(q·kᵀ·scale)·v."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        if dim % heads:
            raise ValueError(f"attention: width {dim} is not divisible by the {heads} heads")
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = rearrange(self.qkv(x), "b n (three h d) -> three b h n d", three=3, h=self.heads)
        weights = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj(rearrange(weights @ v, "b h n d -> b n (h d)"))


class FeedForward(nn.Module):
    """Two-layer MLP ``fc2(act(fc1(x)))`` with a 4× hidden width (GELU in blocks, tanh in the post-MLP)."""

    def __init__(self, dim: int, activation: nn.Module):
        super().__init__()
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.act = activation
        self.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm1(x))`` then ``x + mlp(norm2(x))``."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=LAYER_NORM_EPS)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=LAYER_NORM_EPS)
        self.mlp = FeedForward(dim, nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class _ViTTrunk(nn.Module):
    """Stored pos-emb + blocks + optional residual tanh post-MLP, on (B, dim, h, w) grids."""

    def __init__(self, preset: ViTPreset, grid: int, post_mlp: bool):
        super().__init__()
        self.pos_emb = nn.Parameter(sincos_pos_emb_2d(preset.dim, grid), requires_grad=False)
        self.blocks = nn.Sequential(*(Block(preset.dim, preset.heads) for _ in range(preset.depth)))
        if post_mlp:
            self.norm_mlp = nn.LayerNorm(preset.dim, eps=LAYER_NORM_EPS)
            self.post_mlp = FeedForward(preset.dim, nn.Tanh())
        else:
            self.norm_mlp = self.post_mlp = None

    def tokens(self, grid: torch.Tensor) -> torch.Tensor:
        """(B, dim, h, w) → (B, h·w, dim) after positions, blocks and the post-MLP."""
        x = rearrange(grid, "b d h w -> b (h w) d") + resized_pos_emb(self.pos_emb, *grid.shape[-2:])
        x = self.blocks(x)
        if self.post_mlp is not None:
            x = x.to(torch.promote_types(x.dtype, torch.float32))
            x = x + self.post_mlp(self.norm_mlp(x))
        return x


class ViTEncoder(_ViTTrunk):
    """Patchify (or 1×1-project feature maps), run the trunk, return the (B, dim, h, w) token grid."""

    def __init__(self, preset: ViTPreset, *, in_channels: int, patch_size: int, patch_proj: bool, grid: int,
                 post_mlp: bool):
        super().__init__(preset, grid, post_mlp)
        kernel = patch_size if patch_proj else 1
        self.proj = nn.Conv2d(in_channels, preset.dim, kernel_size=kernel, stride=kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        grid = self.proj(x)
        h, w = grid.shape[-2:]
        return rearrange(self.tokens(grid), "b (h w) d -> b d h w", h=h, w=w)


class ViTDecoder(_ViTTrunk):
    """Trunk over the (B, dim, h, w) latent grid, per-token linear to pixels, un-patchify, optional ConvNeXt."""

    def __init__(self, preset: ViTPreset, *, out_channels: int, patch_size: int, patch_proj: bool, grid: int,
                 post_mlp: bool, out_conv: bool):
        super().__init__(preset, grid, post_mlp)
        self.patch = patch_size if patch_proj else 1
        self.out_proj = nn.Linear(preset.dim, out_channels * self.patch**2)
        self.out_conv = nn.Sequential(ConvNeXtBlock(out_channels), ConvNeXtBlock(out_channels)) if out_conv else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        pixels = rearrange(self.out_proj(self.tokens(x)), "b (h w) (c ph pw) -> b c (h ph) (w pw)",
                           h=h, w=w, ph=self.patch, pw=self.patch)
        return pixels if self.out_conv is None else self.out_conv(pixels)
