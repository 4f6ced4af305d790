"""Per-sample token budgets across modalities (spec §4.2 steps 1–4), drawn for a whole batch at once."""

from __future__ import annotations

import numpy as np

from mm4m.core.masking.config import ALPHA_FLOOR


def sample_components(rng: np.random.Generator, weights: np.ndarray | None, num_components: int,
                      batch_size: int) -> np.ndarray:
    """Mixture component per sample: by ``weights`` if given, else uniform."""
    if weights is None:
        return rng.integers(0, num_components, size=batch_size)
    return rng.choice(num_components, size=batch_size, p=weights / weights.sum())


def sample_totals(rng: np.random.Generator, token_range: tuple[int, int], batch_size: int) -> np.ndarray:
    """Total budget per sample, uniform in the inclusive ``token_range``."""
    lo, hi = token_range
    return rng.integers(lo, hi + 1, size=batch_size)


def dirichlet_budgets(rng: np.random.Generator, alphas: np.ndarray, components: np.ndarray, totals: np.ndarray,
                      caps: np.ndarray) -> np.ndarray:
    """Split each sample's total over the modalities: floor(p·N), leftovers to argmax draws, then caps.

    ``alphas`` (K, M) per component, ``components`` (B,), ``totals`` (B,), ``caps`` (B, M). The r leftover
    tokens go one each to the argmax of r fresh Dirichlet draws, so α≈0 modalities almost never get one.
    Σ budgets can fall below the total when caps bind; nothing is redistributed (as in the reference).
    """
    batch, num_modalities = caps.shape
    budgets = np.zeros((batch, num_modalities), dtype=np.int64)
    alphas = np.maximum(alphas, ALPHA_FLOOR)
    for k in np.unique(components):
        rows = np.flatnonzero(components == k)
        share = rng.dirichlet(alphas[k], size=rows.size)
        base = np.floor(share * totals[rows, None]).astype(np.int64)
        leftover = totals[rows] - base.sum(axis=1)  # in [0, M]: each floor loses < 1
        winners = rng.dirichlet(alphas[k], size=(rows.size, num_modalities)).argmax(axis=-1)
        used = np.arange(num_modalities)[None, :] < leftover[:, None]
        sample_of_draw = np.broadcast_to(np.arange(rows.size)[:, None], used.shape)
        np.add.at(base, (sample_of_draw[used], winners[used]), 1)
        budgets[rows] = base
    return np.minimum(budgets, caps)
