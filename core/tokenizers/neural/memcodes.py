"""Memcodes: attention-style multi-head quantizer of the global / pose tokenizers (§3.2)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn


class HeadwiseLinear(nn.Module):
    """Per-head bias-free linear map, weight (heads, d, d): ``out[h, n] = x[h, n] @ weight[h]``."""

    def __init__(self, heads: int, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(heads, dim, dim).uniform_(-dim**-0.5, dim**-0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("hnd,hdc->hnc", x, self.weight)


class Memcodes(nn.Module):
    """(B, D, h, w) → (values of the best code per head, 0 loss, (B, heads, h, w) int64 ids)."""

    def __init__(self, dim: int, codebook_size: int, heads: int, temperature: float = 1.0):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.temperature = temperature
        self.codes = nn.Parameter(torch.randn(heads, codebook_size, self.head_dim))
        self.to_k = HeadwiseLinear(heads, self.head_dim)
        self.to_v = HeadwiseLinear(heads, self.head_dim)

    @property
    def codebook_size(self) -> int:
        """Codes per head K."""
        return self.codes.shape[1]

    def forward(self, latents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b, _, h, w = latents.shape
        q = rearrange(latents, "b (heads d) h w -> b heads (h w) d", heads=self.heads) * self.head_dim**-0.5
        logits = torch.einsum("bhid,hjd->bhij", q, self.to_k(self.codes))
        if self.training:
            weights = F.gumbel_softmax(logits, tau=self.temperature, hard=True, dim=-1)
            ids = weights.argmax(dim=-1)
        else:
            ids = logits.argmax(dim=-1)
            weights = F.one_hot(ids, self.codebook_size).type(logits.dtype)
        out = torch.einsum("bhij,hjd->bhid", weights, self.to_v(self.codes))
        quant = rearrange(out, "b heads (h w) d -> b (heads d) h w", h=h, w=w)
        return quant, torch.zeros(1, device=latents.device), rearrange(ids, "b heads (h w) -> b heads h w", h=h, w=w)

    def indices_to_embedding(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, heads, 1, 1) ids → (B, heads·d, 1, 1) code values."""
        values = self.to_v(self.codes)  # (heads, K, d)
        flat = rearrange(ids, "b heads 1 1 -> heads b")
        picked = torch.stack([values[head, flat[head]] for head in range(self.heads)])  # (heads, B, d)
        return rearrange(picked, "heads b d -> b (heads d) 1 1")
