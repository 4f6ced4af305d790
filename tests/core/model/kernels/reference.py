"""Float64 reference of the attention entry point and random rule vectors shaped like the model's."""

from __future__ import annotations

import torch


def reference_mask(segq: torch.Tensor, segk: torch.Tensor, bound: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """(B, M, N) visibility written out with broadcasting: valid key, below the bound, same segment."""
    keys = torch.arange(segk.shape[1])
    return valid[:, None, :] & (keys[None, None, :] < bound[:, :, None]) & (segq[:, :, None] == segk[:, None, :])


def reference_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """softmax over visible keys in float64; rows that see nothing get the mean of all values."""
    q, k, v = q.double(), k.double(), v.double()
    scores = (q @ k.transpose(-2, -1)) * q.shape[-1] ** -0.5
    visible = mask[:, None]
    out = scores.masked_fill(~visible, float("-inf")).softmax(-1).nan_to_num(0.0) @ v
    blind = ~visible.any(dim=-1, keepdim=True)
    return torch.where(blind, v.mean(dim=-2, keepdim=True), out)


def decoder_rules(lengths: list[int], causal: list[bool], budget: int) -> dict[str, torch.Tensor]:
    """One batch row of decoder self-attention rules: modality runs, cumulative-count bounds, padding.

    Run m has ``lengths[m]`` valid tokens (image-like: one bidirectional block; sequence: causal), then
    padding up to ``budget`` in runs that keep their modality's id, as after the model's valid-first gather
    (so an id occurs in two separate runs).
    """
    segments, codes = [], []
    for modality, (length, is_causal) in enumerate(zip(lengths, causal, strict=True)):
        segments += [modality] * length
        codes += [1] * length if is_causal else [length] + [0] * (length - 1) if length else []
    pad = budget - len(segments)
    segments += [min(p * len(lengths) // pad, len(lengths) - 1) for p in range(pad)]
    codes += [0] * pad
    segments_t = torch.tensor([segments])
    return {"q_segments": segments_t, "k_segments": segments_t,
            "key_bound": torch.cumsum(torch.tensor([codes]), dim=1)}
