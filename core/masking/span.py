"""Span masking of sequences with sentinels (spec §4.2 step 5, ``seq``), vectorised over the batch.

Results are expressed in *source codes*: a value ``>= 0`` is a position in the packed sequence, a value
``-k`` stands for sentinel ``[S_k]``. Text turns them into ids, embeddings into rows (sentinel = zeros).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mm4m.core.masking.errors import MaskingError
from mm4m.core.masking.inputs import PackedSequences
from mm4m.core.special_tokens import NUM_SENTINELS, is_sentinel, sentinel_id

KEEP_DECAY = 0.9
"""The keep probability is multiplied by this until the input fits its budget."""


@dataclass(frozen=True)
class SpanMasked:
    """Input and target of span masking, as source codes padded per row."""

    input_codes: np.ndarray  # (B, W_in)
    input_lengths: np.ndarray  # (B,)
    target_codes: np.ndarray  # (B, W_tgt)
    target_lengths: np.ndarray  # (B,)
    truncated: np.ndarray  # (B,) bool: the target was cut to fit its budget


def span_mask(rng: np.random.Generator, seqs: PackedSequences, keep: np.ndarray, b_in: np.ndarray,
              b_tgt: np.ndarray, *, key: str) -> SpanMasked:
    """Drop units with probability 1−keep, decaying keep until the input fits ``b_in``; cut targets to ``b_tgt``.

    A sample with ``b_in == 0`` gets an empty input and everything in its target.
    """
    kept = _draw_kept_tokens(rng, seqs, np.where(b_in > 0, keep, 0.0), b_in)
    valid = seqs.valid
    dropped = valid & ~kept
    run_start = dropped & ~np.pad(dropped[:, :-1], ((0, 0), (1, 0)))
    run_index = np.cumsum(run_start, axis=1)
    num_runs = run_index[:, -1]
    if (num_runs + 1).max(initial=0) >= NUM_SENTINELS:
        raise MaskingError(f"modality '{key}': span masking needs {int(num_runs.max()) + 1} sentinels, "
                           f"the vocabulary has {NUM_SENTINELS - 1} (use max_tokens <= {2 * (NUM_SENTINELS - 2)})")
    positions = np.broadcast_to(np.arange(valid.shape[1]), valid.shape)
    emitted = kept | run_start
    input_codes, input_lengths = _compact(emitted, np.where(kept, positions, -run_index))
    input_lengths = np.where(b_in > 0, input_lengths, 0)
    target_codes, target_lengths, sentinel_at = _targets(dropped, run_start, run_index, num_runs, positions)
    start, target_lengths, truncated = _truncation_window(rng, target_lengths, sentinel_at, num_runs, b_tgt)
    width = max(int(target_lengths.max(initial=0)), 1)
    take = np.minimum(start[:, None] + np.arange(width)[None, :], target_codes.shape[1] - 1)
    return SpanMasked(input_codes=input_codes, input_lengths=input_lengths,
                      target_codes=np.take_along_axis(target_codes, take, axis=1),
                      target_lengths=target_lengths, truncated=truncated)


def _draw_kept_tokens(rng: np.random.Generator, seqs: PackedSequences, keep: np.ndarray,
                      b_in: np.ndarray) -> np.ndarray:
    """(B, L) kept flags; rows whose input (kept tokens + one sentinel per run) exceeds b_in are redrawn."""
    kept = np.zeros(seqs.tokens.shape, dtype=bool)
    keep = keep.astype(np.float64).copy()
    todo = np.arange(len(keep))
    valid = seqs.valid
    num_unit_cols = max(int(seqs.num_units.max(initial=0)), 1)
    while todo.size:
        unit_kept = rng.random((todo.size, num_unit_cols)) < keep[todo, None]
        rows_kept = np.take_along_axis(unit_kept, seqs.units[todo], axis=1) & valid[todo]
        dropped = valid[todo] & ~rows_kept
        runs = (dropped & ~np.pad(dropped[:, :-1], ((0, 0), (1, 0)))).sum(axis=1)
        fits = (rows_kept.sum(axis=1) + runs <= b_in[todo]) | (b_in[todo] == 0)
        kept[todo[fits]] = rows_kept[fits]
        todo = todo[~fits]
        keep[todo] *= KEEP_DECAY
    return kept


def _compact(emit: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Move the emitted values of every row to a prefix, keeping their order."""
    lengths = emit.sum(axis=1)
    out = np.zeros((emit.shape[0], max(int(lengths.max(initial=0)), 1)), dtype=np.int64)
    rows, cols = np.nonzero(emit)
    out[rows, np.cumsum(emit, axis=1)[rows, cols] - 1] = values[rows, cols]
    return out, lengths


def _targets(dropped: np.ndarray, run_start: np.ndarray, run_index: np.ndarray, num_runs: np.ndarray,
             positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Target codes ``[S_1] run_1 [S_2] run_2 … [S_{n+1}]`` and the position of every sentinel in them."""
    width = run_start.astype(np.int64) + dropped
    offset = np.cumsum(width, axis=1) - width
    lengths = width.sum(axis=1) + 1
    batch = dropped.shape[0]
    codes = np.zeros((batch, max(int(lengths.max()), 1)), dtype=np.int64)
    rows, cols = np.nonzero(run_start)
    codes[rows, offset[rows, cols]] = -run_index[rows, cols]
    sentinel_at = np.full((batch, int(num_runs.max(initial=0)) + 1), np.iinfo(np.int64).max // 2, dtype=np.int64)
    sentinel_at[rows, run_index[rows, cols] - 1] = offset[rows, cols]
    rows, cols = np.nonzero(dropped)
    codes[rows, offset[rows, cols] + run_start[rows, cols]] = positions[rows, cols]
    all_rows = np.arange(batch)
    codes[all_rows, lengths - 1] = -(num_runs + 1)
    sentinel_at[all_rows, num_runs] = lengths - 1
    return codes, lengths, sentinel_at


def _truncation_window(rng: np.random.Generator, lengths: np.ndarray, sentinel_at: np.ndarray,
                       num_runs: np.ndarray, b_tgt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start and length of the kept target window: from a random sentinel among the first max(1, n),
    or, if too little follows it, from the earliest sentinel whose suffix fits."""
    too_long = lengths > b_tgt
    choice = np.floor(rng.random(len(lengths)) * np.maximum(num_runs, 1)).astype(np.int64)
    chosen = np.take_along_axis(sentinel_at, choice[:, None], axis=1)[:, 0]
    suffix = lengths[:, None] - sentinel_at
    earliest_fit = np.argmax((suffix <= b_tgt[:, None]) & (suffix > 0), axis=1)
    fallback = np.take_along_axis(sentinel_at, earliest_fit[:, None], axis=1)[:, 0]
    start = np.where(lengths - chosen >= b_tgt, chosen, fallback)
    start = np.where(too_long, start, 0)
    return start, np.minimum(lengths - start, b_tgt), too_long


def merge_span_masking(input_ids: Sequence[int], target_ids: Sequence[int]) -> list[int]:
    """Undo span masking: replace each input sentinel by the tokens that follow it in the target."""
    spans: dict[int, list[int]] = {}
    current = None
    for token in target_ids:
        if is_sentinel(token):
            current = spans.setdefault(token, [])
        elif current is not None:
            current.append(token)
    merged: list[int] = []
    for token in input_ids:
        if is_sentinel(token):
            merged.extend(spans.get(token, []))
        else:
            merged.append(token)
    return merged


def sentinel_code_to_id(codes: np.ndarray) -> np.ndarray:
    """Map negative source codes ``-k`` to the id of ``[S_k]``."""
    return sentinel_id(0) - codes
