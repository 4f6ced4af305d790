"""Masking of grid modalities (images, image tokens, global tokens) by a random permutation (spec §4.2 step 5)."""

from __future__ import annotations

import numpy as np


def random_ranks(rng: np.random.Generator, batch: int, length: int) -> np.ndarray:
    """(B, N) rank of every position in an independent uniformly random order per sample."""
    order = rng.random((batch, length)).argsort(axis=1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(length), order.shape), axis=1)
    return ranks


def grid_masks(ranks: np.ndarray, b_in: np.ndarray, b_tgt: np.ndarray) -> dict[str, np.ndarray]:
    """The first ``b_in`` ranks are inputs, the next ``b_tgt`` targets; masks are True = excluded.

    ``decoder_attention_mask`` holds ``#targets`` at the first target position (index order), 0 elsewhere.
    """
    is_input = ranks < b_in[:, None]
    is_target = ~is_input & (ranks < (b_in + b_tgt)[:, None])
    return {"input_mask": ~is_input, "target_mask": ~is_target,
            "decoder_attention_mask": block_attention_codes(is_target)}


def block_attention_codes(is_target: np.ndarray) -> np.ndarray:
    """int32 codes for a bidirectional target block: its size at its first position, 0 elsewhere."""
    codes = np.zeros(is_target.shape, dtype=np.int32)
    count = is_target.sum(axis=1)
    rows = np.flatnonzero(count)
    codes[rows, is_target[rows].argmax(axis=1)] = count[rows]
    return codes
