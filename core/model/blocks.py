"""Attention layers and the pre-norm encoder / decoder blocks (spec §2.2); all attend through `attention`."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from mm4m.core.model.attention import attention
from mm4m.core.model.layers import DropPath, GatedMlp, LayerNorm, Mlp, mlp_hidden


@dataclass(frozen=True)
class BlockOptions:
    """Per-block hyper-parameters shared by the encoder and decoder stacks."""

    dim: int
    num_heads: int
    mlp_ratio: float
    qkv_bias: bool
    proj_bias: bool
    mlp_bias: bool
    norm_bias: bool
    gated_mlp: bool
    qk_norm: bool
    act: type[nn.Module]

    def norm(self, dim: int | None = None) -> LayerNorm:
        return LayerNorm(dim or self.dim, bias=self.norm_bias)

    def mlp(self) -> nn.Module:
        cls = GatedMlp if self.gated_mlp else Mlp
        return cls(self.dim, mlp_hidden(self.dim, self.mlp_ratio, self.gated_mlp), act=self.act, bias=self.mlp_bias)


class _HeadsMixin(nn.Module):
    """Head split/merge and optional per-head QK-norm."""

    def _setup_heads(self, opts: BlockOptions) -> None:
        if opts.dim % opts.num_heads:
            raise ValueError(f"dim {opts.dim} is not divisible by num_heads {opts.num_heads}")
        self.num_heads = opts.num_heads
        self.head_dim = head_dim = opts.dim // opts.num_heads
        self.q_norm = opts.norm(head_dim) if opts.qk_norm else nn.Identity()
        self.k_norm = opts.norm(head_dim) if opts.qk_norm else nn.Identity()
        self.proj = nn.Linear(opts.dim, opts.dim, bias=opts.proj_bias)

    def _split(self, x: torch.Tensor, parts: int) -> torch.Tensor:
        """(B, N, parts·D) → (parts, B, H, N, Dh) in the reference's (parts, heads, head_dim) order."""
        b, n, _ = x.shape
        return x.reshape(b, n, parts, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)

    def _merge(self, x: torch.Tensor) -> torch.Tensor:
        b, _, n, _ = x.shape
        return self.proj(x.transpose(1, 2).reshape(b, n, self.num_heads * self.head_dim))


class SelfAttention(_HeadsMixin):
    """Multi-head self-attention: ``qkv`` Linear D→3D, optional QK-norm, ``proj`` Linear D→D."""

    def __init__(self, opts: BlockOptions):
        super().__init__()
        self.qkv = nn.Linear(opts.dim, 3 * opts.dim, bias=opts.qkv_bias)
        self._setup_heads(opts)

    def forward(self, x: torch.Tensor, **visibility: torch.Tensor | None) -> torch.Tensor:
        q, k, v = self._split(self.qkv(x), 3)
        return self._merge(attention(self.q_norm(q), self.k_norm(k), v, **visibility))


class CrossAttention(_HeadsMixin):
    """Multi-head cross-attention: ``q`` from the queries, ``kv`` (k then v) from the context, ``proj``."""

    def __init__(self, opts: BlockOptions):
        super().__init__()
        self.q = nn.Linear(opts.dim, opts.dim, bias=opts.qkv_bias)
        self.kv = nn.Linear(opts.dim, 2 * opts.dim, bias=opts.qkv_bias)
        self._setup_heads(opts)

    def forward(self, x: torch.Tensor, context: torch.Tensor, *, key_valid: torch.Tensor | None) -> torch.Tensor:
        q = self._split(self.q(x), 1)[0]
        k, v = self._split(self.kv(context), 2)
        return self._merge(attention(self.q_norm(q), self.k_norm(k), v, key_valid=key_valid))


class EncoderBlock(nn.Module):
    """x += Attn(norm1 x); x += MLP(norm2 x)."""

    def __init__(self, opts: BlockOptions, drop_path: float = 0.0):
        super().__init__()
        self.norm1 = opts.norm()
        self.attn = SelfAttention(opts)
        self.drop_path = DropPath(drop_path)
        self.norm2 = opts.norm()
        self.mlp = opts.mlp()

    def forward(self, x: torch.Tensor, *, key_valid: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x), key_valid=key_valid))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class DecoderBlock(nn.Module):
    """x += SelfAttn(norm1 x); x += CrossAttn(query_norm x, context_norm ctx); x += MLP(norm2 x)."""

    def __init__(self, opts: BlockOptions, drop_path: float = 0.0):
        super().__init__()
        self.norm1 = opts.norm()
        self.self_attn = SelfAttention(opts)
        self.query_norm = opts.norm()
        self.context_norm = opts.norm()
        self.cross_attn = CrossAttention(opts)
        self.drop_path = DropPath(drop_path)
        self.norm2 = opts.norm()
        self.mlp = opts.mlp()

    def forward(
        self,
        x: torch.Tensor,
        context: torch.Tensor,
        *,
        segments: torch.Tensor | None,
        key_bound: torch.Tensor | None,
        context_valid: torch.Tensor | None,
    ) -> torch.Tensor:
        """``segments`` (B, N) modality ids and ``key_bound`` (B, N) shape the self-attention (§2.7)."""
        x = x + self.drop_path(self.self_attn(self.norm1(x), q_segments=segments, k_segments=segments,
                                              key_bound=key_bound))
        x = x + self.drop_path(self.cross_attn(self.query_norm(x), self.context_norm(context),
                                               key_valid=context_valid))
        return x + self.drop_path(self.mlp(self.norm2(x)))
