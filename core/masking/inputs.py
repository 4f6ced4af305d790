"""The typed input of masking: one batch entry per modality, checked against its spec and packed into
padded numpy arrays so every sample can be masked at once.

Accepted data per modality kind (B = batch size):

* grid kinds (``img``): a tensor of ``B`` samples — token ids ``(B, N)`` or ``(B, h, w)``, or pixels
  ``(B, C, H, W)``; it is passed through unchanged, the masks cover its ``max_tokens`` positions.
* ``text_sequence``: ``B`` lists of token ids (already tokenised, no ``[EOS]``), or ``B`` lists of chunks
  (lists of ids, e.g. one chunk per metadata item) so span masking acts on whole chunks.
* ``sequence_embedding``: ``B`` float tensors ``(L_b, C)`` of valid rows, or one ``(B, L, C)`` tensor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeAlias

import numpy as np
import torch

from mm4m.core.masking.errors import MaskingError
from mm4m.core.spec import ModalityKind, ModalitySpec
from mm4m.core.special_tokens import EOS_ID, PAD_ID

TokenIds: TypeAlias = Sequence[int]
Chunks: TypeAlias = Sequence[Sequence[int]]
ModalityData: TypeAlias = torch.Tensor | Sequence[TokenIds] | Sequence[Chunks] | Sequence[torch.Tensor]
MaskingBatch: TypeAlias = Mapping[str, ModalityData]
"""What a masking policy is called with: ``{modality key: data}`` as described in this module's docstring."""


@dataclass(frozen=True)
class PackedSequences:
    """A batch of sequences padded to a common length, with the span-masking unit of every token.

    ``units[b, i]`` is the chunk index of token ``i`` (= ``i`` for unchunked sequences); tokens of
    one unit are always kept or dropped together. For embeddings ``tokens`` holds row indices.
    """

    tokens: np.ndarray  # (B, L) int64, PAD beyond lengths
    lengths: np.ndarray  # (B,) int64
    units: np.ndarray  # (B, L) int64
    num_units: np.ndarray  # (B,) int64

    @cached_property
    def valid(self) -> np.ndarray:
        """(B, L) bool: True on real tokens."""
        return np.arange(self.tokens.shape[1])[None, :] < self.lengths[:, None]

    def sample(self, b: int) -> list[int]:
        """The ids of sample ``b`` (what span masking must reconstruct)."""
        return self.tokens[b, : self.lengths[b]].tolist()


def batch_size_of(batch: dict[str, Any]) -> int:
    """The common batch size of all entries; an entry that disagrees with the others is named."""
    sizes = {key: len(data) for key, data in batch.items()}
    if not sizes:
        raise MaskingError("the batch is empty: expected at least one modality")
    common, _ = Counter(sizes.values()).most_common(1)[0]
    for key, size in sizes.items():
        if size != common:
            others = [k for k, s in sizes.items() if s == common]
            raise MaskingError(f"modality '{key}' has {size} samples, but '{others[0]}' has {common}")
    return common


def batch_size_for(batch: Mapping[str, Any], keys: Sequence[str]) -> int:
    """`batch_size_of` the entries ``keys`` of ``batch``; a missing key is named."""
    missing = [k for k in keys if k not in batch]
    if missing:
        raise MaskingError(f"the batch has no data for modality '{missing[0]}' (it has {sorted(batch)})")
    return batch_size_of({k: batch[k] for k in keys})


def pack_token_sequences(spec: ModalitySpec, data: Any) -> PackedSequences:
    """Append ``[EOS]`` and truncate to ``max_tokens`` (chunks: EOS is its own chunk, whole chunks kept)."""
    if not isinstance(data, Sequence) or isinstance(data, str | bytes):
        raise MaskingError(f"modality '{spec.key}': expected a list of token-id lists (one per sample), "
                           f"found {type(data).__name__}")
    rows, units = [], []
    for b, sample in enumerate(data):
        ids, unit = _sample_with_eos(spec, b, sample)
        rows.append(ids)
        units.append(unit)
    packed = _pad(spec.key, rows, units)
    _check_vocabulary(spec, packed)
    return packed


def _check_vocabulary(spec: ModalitySpec, packed: PackedSequences) -> None:
    bad = packed.valid & ((packed.tokens < 0) | (packed.tokens >= (spec.vocab_size or 0)))
    if bad.any():
        b, i = (int(x[0]) for x in np.nonzero(bad))
        raise MaskingError(f"modality '{spec.key}', sample {b}: token {int(packed.tokens[b, i])} at position {i} "
                           f"is not an id in [0, {spec.vocab_size})")


def _sample_with_eos(spec: ModalitySpec, b: int, sample: Any) -> tuple[list[int], list[int]]:
    if isinstance(sample, torch.Tensor | np.ndarray):
        sample = sample.tolist()
    if not isinstance(sample, Sequence) or isinstance(sample, str | bytes):
        raise MaskingError(f"modality '{spec.key}', sample {b}: expected a list of token ids or of chunks, "
                           f"found {type(sample).__name__} (tokenise text before masking)")
    chunked = len(sample) > 0 and not isinstance(sample[0], int | np.integer)
    if not chunked:
        flat = [*sample, EOS_ID][: spec.max_tokens]
        return flat, list(range(len(flat)))
    chunks = [*sample, [EOS_ID]]
    ids, unit, total = [], [], 0
    for u, chunk in enumerate(chunks):
        total += len(chunk)
        if total > spec.max_tokens:
            break
        ids.extend(chunk)
        unit.extend([u] * len(chunk))
    return ids, unit


def pack_embeddings(spec: ModalitySpec, data: Any) -> tuple[PackedSequences, list[torch.Tensor]]:
    """Sequence embeddings → row-index sequences plus each sample's valid rows (at most ``max_tokens``; no EOS)."""
    if not (isinstance(data, Sequence) or (isinstance(data, torch.Tensor) and data.dim() == 3)):
        raise MaskingError(f"modality '{spec.key}': expected B tensors (L, {spec.channels}) or one tensor "
                           f"(B, L, {spec.channels}), found {type(data).__name__}")
    samples, rows = [], []
    for b, emb in enumerate(data):
        if not isinstance(emb, torch.Tensor) or emb.dim() != 2 or emb.shape[1] != spec.channels:
            found = tuple(emb.shape) if isinstance(emb, torch.Tensor) else type(emb).__name__
            raise MaskingError(f"modality '{spec.key}', sample {b}: expected a (L, {spec.channels}) tensor, "
                               f"found {found}")
        samples.append(emb[: spec.max_tokens])
        rows.append(list(range(len(samples[-1]))))
    return _pad(spec.key, rows, rows), samples


def check_grid(spec: ModalitySpec, data: Any) -> torch.Tensor:
    """A grid modality's tensor, checked to hold ``max_tokens`` positions per sample."""
    if not isinstance(data, torch.Tensor):
        raise MaskingError(f"modality '{spec.key}': expected a tensor, found {type(data).__name__}")
    if spec.kind is ModalityKind.IMAGE_PIXELS:
        expected = (spec.channels, spec.input_size, spec.input_size)
        if data.dim() != 4 or tuple(data.shape[1:]) != expected:
            raise MaskingError(f"modality '{spec.key}': expected pixels (B, {', '.join(map(str, expected))}), "
                               f"found {tuple(data.shape)}")
    elif data.dim() not in (2, 3) or int(np.prod(data.shape[1:])) != spec.max_tokens:
        raise MaskingError(f"modality '{spec.key}': expected token ids (B, {spec.max_tokens}) or (B, h, w) with "
                           f"h*w = {spec.max_tokens}, found {tuple(data.shape)}")
    return data


def _pad(key: str, rows: list[list[int]], units: list[list[int]]) -> PackedSequences:
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    width = max(int(lengths.max(initial=0)), 1)
    tokens = np.full((len(rows), width), PAD_ID, dtype=np.int64)
    unit_arr = np.zeros((len(rows), width), dtype=np.int64)
    for b, (r, u) in enumerate(zip(rows, units, strict=True)):
        try:
            tokens[b, : len(r)] = r
        except (TypeError, ValueError, OverflowError):
            raise MaskingError(f"modality '{key}', sample {b}: expected integer token ids, found {r[:5]!r}...") from None
        unit_arr[b, : len(u)] = u
    num_units = np.array([u[-1] + 1 if u else 0 for u in units], dtype=np.int64)
    return PackedSequences(tokens=tokens, lengths=lengths, units=unit_arr, num_units=num_units)
