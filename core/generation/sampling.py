"""Drawing tokens from logits (spec §5.3): greedy at zero temperature, else top-k / top-p filtered sampling."""

from __future__ import annotations

import torch

GREEDY_TEMPERATURE = 1e-10
"""Temperatures with ``abs(T) <= GREEDY_TEMPERATURE`` pick the argmax."""


def top_k_count(top_k: int | float, vocab_size: int) -> int | None:
    """Tokens kept by ``top_k``: an int is a count, a float in (0, 1) a fraction of the vocabulary; 0 keeps all."""
    if isinstance(top_k, bool) or top_k < 0:
        raise ValueError(f"top_k must be a count >= 0 or a fraction in [0, 1), found {top_k!r}")
    if top_k == 0:
        return None
    if isinstance(top_k, float) and not top_k.is_integer():
        if top_k > 1:
            raise ValueError(f"top_k as a fraction must be in (0, 1), found {top_k}")
        return max(1, int(top_k * vocab_size))
    return min(int(top_k), vocab_size)


def filter_top_k(logits: torch.Tensor, top_k: int | float) -> torch.Tensor:
    """Logits below the k-th largest of each row set to −inf."""
    k = top_k_count(top_k, logits.shape[-1])
    if k is None:
        return logits
    kth_largest = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth_largest, float("-inf"))


def filter_top_p(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the shortest prefix of descending tokens whose cumulative probability exceeds ``top_p`` (≥ 1 token)."""
    if not 0 <= top_p <= 1:
        raise ValueError(f"top_p must be in [0, 1], found {top_p}")
    if top_p in (0, 1):
        return logits
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
    drop_sorted = torch.zeros_like(cumulative, dtype=torch.bool)
    drop_sorted[..., 1:] = cumulative[..., :-1] > top_p  # a token goes once the ones before it already exceed p
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def sample_tokens(
    logits: torch.Tensor,
    temperature: float,
    *,
    top_k: int | float = 0,
    top_p: float = 0.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample one token per row of ``logits`` (..., V); returns ``(ids, probability of each drawn id)``.

    Greedy (probability 1) when ``abs(temperature) <= 1e-10``; otherwise top-k then top-p filtering of the raw
    logits, softmax of ``filtered / temperature`` and one multinomial draw using ``generator``.
    """
    if abs(temperature) <= GREEDY_TEMPERATURE:
        ids = logits.argmax(dim=-1)
        return ids, torch.ones(ids.shape, dtype=logits.dtype, device=logits.device)
    filtered = filter_top_p(filter_top_k(logits, top_k), top_p)
    probs = torch.softmax(filtered / temperature, dim=-1)
    flat = probs.reshape(-1, probs.shape[-1])
    ids = torch.multinomial(flat, 1, generator=generator).reshape(probs.shape[:-1])
    return ids, torch.gather(probs, -1, ids.unsqueeze(-1)).squeeze(-1)
