"""The single attention entry point used by every block of FourM (spec §2.2, §2.7).

Visibility is described by small per-token vectors instead of a dense (B, N, N) mask, so a fused
kernel can evaluate it on the fly: a query ``i`` sees key ``j`` when all given rules allow it:

* ``key_valid[b, j]`` — the key is a real token (False for padding / masked encoder slots);
* ``key_bound[b, i]`` — cumulative-count rule of §2.7: only keys ``j < key_bound[b, i]`` are visible
  (``key_bound = cumsum(decoder_attention_mask)`` gives per-modality blocks and causal sequences);
* ``q_segments[b, i] == k_segments[b, j]`` — same modality (the decoder's ``decoder_sep_mask``).

A query with no visible key returns the plain mean of all values, which is what the reference's
``masked_fill(-float32_max)`` + softmax yields, instead of NaN; with no keys at all the result is 0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def visibility_mask(
    num_queries: int,
    num_keys: int,
    *,
    q_segments: torch.Tensor | None = None,
    k_segments: torch.Tensor | None = None,
    key_bound: torch.Tensor | None = None,
    key_valid: torch.Tensor | None = None,
    device: torch.device | None = None,
) -> torch.Tensor | None:
    """Boolean (B|1, 1, Nq, Nk) mask, True = visible, from the rule vectors; None when all is visible."""
    mask: torch.Tensor | None = None

    def both(rule: torch.Tensor) -> torch.Tensor:
        return rule if mask is None else mask & rule

    if key_valid is not None:
        mask = both(key_valid[:, None, :])
    if key_bound is not None:
        keys = torch.arange(num_keys, device=device if device is not None else key_bound.device)
        mask = both(keys[None, None, :] < key_bound[:, :, None])
    if q_segments is not None or k_segments is not None:
        if q_segments is None or k_segments is None:
            raise ValueError("attention: q_segments and k_segments must be given together")
        mask = both(q_segments[:, :, None] == k_segments[:, None, :])
    return None if mask is None else mask.expand(-1, num_queries, num_keys).unsqueeze(1)


def attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    q_segments: torch.Tensor | None = None,
    k_segments: torch.Tensor | None = None,
    key_bound: torch.Tensor | None = None,
    key_valid: torch.Tensor | None = None,
) -> torch.Tensor:
    """Scaled dot-product attention of q (B, H, Nq, Dh) over k, v (B, H, Nk, Dh) → (B, H, Nq, Dh).

    Rule vectors (all optional, see the module docstring): ``q_segments`` (B, Nq) and ``k_segments``
    (B, Nk) integer ids, ``key_bound`` (B, Nq) integer, ``key_valid`` (B, Nk) bool. Scale is Dh^-½.
    """
    num_queries, num_keys = q.shape[-2], k.shape[-2]
    if num_keys == 0:  # e.g. an unconditional pass with an empty encoder: softmax over nothing → zeros
        return q.new_zeros(*q.shape[:-1], v.shape[-1])
    mask = visibility_mask(num_queries, num_keys, q_segments=q_segments, k_segments=k_segments,
                           key_bound=key_bound, key_valid=key_valid, device=q.device)
    if mask is None:
        return F.scaled_dot_product_attention(q, k, v)
    blind = ~mask.any(dim=-1, keepdim=True)  # (B, 1, Nq, 1): queries that see no key at all
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask | blind)
    return torch.where(blind, v.mean(dim=-2, keepdim=True), out)
