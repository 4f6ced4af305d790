"""Float32 bounds for the tokenizer fixtures (docs/numerics.md): network outputs and code assignments."""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

from mm4m.core.tokenizers.neural.lucid import LucidQuantizer
from mm4m.testing.numerics import (assert_discrete_match, in_float64, rounding_bound, top2_margin,
                                   traced_reduction_length)


def per_sample_scale(truth: torch.Tensor) -> torch.Tensor:
    """Each sample's largest |value|, shaped to broadcast over the sample."""
    return truth.abs().amax(dim=tuple(range(1, truth.dim())), keepdim=True)


def network_truth_and_bound(module: nn.Module, *args) -> tuple[torch.Tensor, torch.Tensor]:
    """``module(*args)`` in float64, and its bound: every reduction of this call, relative to each sample's max."""
    truth = in_float64(module, *args)
    return truth, rounding_bound(traced_reduction_length(module, *args), per_sample_scale(truth))


def assert_codes_match(name: str, quantizer: nn.Module, latents: torch.Tensor, latent_bound: torch.Tensor,
                       ids: torch.Tensor, reference_ids: torch.Tensor) -> None:
    """Code ids exactly, except assignments at a near tie (given float64 latents and their float32 bound).

    Lucid assigns by cosine similarity to unit codes: a latent error δ moves the unit latent, hence each
    similarity, by at most 2‖δ‖/‖z‖. Memcodes by q·k_j with q = z_head/√d: by ‖δ_head‖·‖k_j‖/√d. Both add the
    score's own D roundings.
    """
    bound = latent_bound.double().expand_as(latents)
    if isinstance(quantizer, LucidQuantizer):
        z = latents.permute(0, 2, 3, 1)
        codes = quantizer._codebook.embed.double()
        scores = (z / z.norm(dim=-1, keepdim=True)) @ (codes / codes.norm(dim=-1, keepdim=True)).T
        moved = bound.permute(0, 2, 3, 1).norm(dim=-1)
        error = 2 * moved / z.norm(dim=-1) + rounding_bound(z.shape[-1], 1.0)
    else:
        heads, d = quantizer.heads, quantizer.head_dim
        q = rearrange(latents, "b (heads d) h w -> b heads (h w) d", heads=heads) * d**-0.5
        keys = in_float64(quantizer.to_k, quantizer.codes.detach())
        scores = torch.einsum("bhid,hjd->bhij", q, keys)
        moved = rearrange(bound, "b (heads d) h w -> b heads (h w) d", heads=heads).norm(dim=-1) * d**-0.5
        error = (moved * keys.norm(dim=-1).amax(-1)[None, :, None] + rounding_bound(d, scores.abs().amax(-1)))
        scores, error = (rearrange(t, "b heads (h w) ... -> b heads h w ...", h=latents.shape[2])
                         for t in (scores, error))
    assert_discrete_match(name, ids, reference_ids, top2_margin(scores), error)
