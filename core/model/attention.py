"""The single attention entry point used by every block of FourM (spec §2.2, §2.7).

Visibility is described by small per-token vectors instead of a dense (B, N, N) mask, so a fused
kernel can evaluate it on the fly: a query ``i`` sees key ``j`` when all given rules allow it:

* ``key_valid[b, j]`` — the key is a real token (False for padding / masked encoder slots);
* ``key_bound[b, i]`` — cumulative-count rule of §2.7: only keys ``j < key_bound[b, i]`` are visible
  (``key_bound = cumsum(decoder_attention_mask)`` gives per-modality blocks and causal sequences);
* ``q_segments[b, i] == k_segments[b, j]`` — same modality (the decoder's ``decoder_sep_mask``).

A query with no visible key returns the plain mean of all values, which is what the reference's
``masked_fill(-float32_max)`` + softmax yields, instead of NaN; with no keys at all the result is 0.

Three paths give the same results (docs/attention-kernels.md). Automatically, CUDA inputs with rules and
``triton`` installed take the fused Triton kernels of ``mm4m.core.model.kernels`` (tile skipping, no dense
mask), or compiled FlexAttention when the kernels do not support their head dim; everything else takes SDPA
with a dense boolean mask. ``MM4M_ATTENTION=triton|flex|sdpa`` forces a path (``auto`` or unset: the choice
above). Triton and FlexAttention are imported only on their paths.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F

BACKEND_ENV = "MM4M_ATTENTION"
BACKENDS = ("triton", "flex", "sdpa")


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


def attention_backend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, has_rules: bool) -> str:
    """The path `attention` takes for these inputs: ``MM4M_ATTENTION`` if set, else the automatic choice."""
    forced = os.environ.get(BACKEND_ENV, "").strip().lower()
    if forced in BACKENDS:
        return forced
    if forced not in ("", "auto"):
        raise ValueError(f"{BACKEND_ENV} must be one of auto, {', '.join(BACKENDS)}; found {forced!r}")
    if not q.is_cuda or not has_rules:  # nothing to skip without rules: SDPA's own flash kernel is best
        return "sdpa"
    from mm4m.core.model.kernels.flex import flex_available
    from mm4m.core.model.kernels.support import SUPPORTED_DTYPES, triton_installed, unsupported_reason

    if not triton_installed():
        return "sdpa"
    if unsupported_reason(q, k, v) is None:
        return "triton"
    return "flex" if q.dtype in SUPPORTED_DTYPES and flex_available() else "sdpa"


def sdpa_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    q_segments: torch.Tensor | None = None,
    k_segments: torch.Tensor | None = None,
    key_bound: torch.Tensor | None = None,
    key_valid: torch.Tensor | None = None,
) -> torch.Tensor:
    """The SDPA path: a dense boolean mask from the rule vectors; blind rows replaced by mean(V)."""
    mask = visibility_mask(q.shape[-2], k.shape[-2], q_segments=q_segments, k_segments=k_segments,
                           key_bound=key_bound, key_valid=key_valid, device=q.device)
    if mask is None:
        return F.scaled_dot_product_attention(q, k, v)
    blind = ~mask.any(dim=-1, keepdim=True)  # (B, 1, Nq, 1): queries that see no key at all
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask | blind)
    return torch.where(blind, v.mean(dim=-2, keepdim=True), out)


def _triton_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                      **rules: torch.Tensor | None) -> torch.Tensor:
    """The fused path; a clear error when Triton is missing or cannot run on this device."""
    from mm4m.core.model.kernels.support import triton_installed

    if not triton_installed():
        raise RuntimeError(f"{BACKEND_ENV}=triton needs the triton package (pip install 'mm4m[triton]'); "
                           "found none installed")
    from mm4m.core.model.kernels.function import fused_attention

    return fused_attention(q, k, v, **rules)


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
    if (q_segments is None) != (k_segments is None):
        raise ValueError("attention: q_segments and k_segments must be given together")
    if k.shape[-2] == 0:  # e.g. an unconditional pass with an empty encoder: softmax over nothing → zeros
        return q.new_zeros(*q.shape[:-1], v.shape[-1])
    rules = {"q_segments": q_segments, "k_segments": k_segments, "key_bound": key_bound, "key_valid": key_valid}
    backend = attention_backend(q, k, v, has_rules=any(rule is not None for rule in rules.values()))
    if backend == "triton":
        return _triton_attention(q, k, v, **rules)
    if backend == "flex":
        from mm4m.core.model.kernels.flex import flex_attention_path

        return flex_attention_path(q, k, v, **rules)
    return sdpa_attention(q, k, v, **rules)
