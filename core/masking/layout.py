"""The tensor layouts the model expects for masked sequences (spec §4.2 "Layout", §2.5).

Text: length ``2·(max_tokens+1)``, input ids at ``[0, L_in)``, target ids at ``[offset, offset+L_tgt)``,
``[PAD]`` elsewhere. Embeddings: length ``max_tokens``, input rows only. Masks are True = excluded.
"""

from __future__ import annotations

import numpy as np
import torch

from mm4m.core.masking.span import sentinel_code_to_id
from mm4m.core.special_tokens import PAD_ID


def text_length(max_tokens: int) -> int:
    """Length of a text modality's masked tensor."""
    return 2 * (max_tokens + 1)


def _decode_ids(codes: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """Source codes → token ids (positions index ``tokens``; ``-k`` → ``[S_k]``)."""
    safe = np.clip(codes, 0, tokens.shape[1] - 1)
    return np.where(codes >= 0, np.take_along_axis(tokens, safe, axis=1), sentinel_code_to_id(codes))


def _scatter_rows(out: np.ndarray, values: np.ndarray, lengths: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Write ``values[b, :lengths[b]]`` into ``out[b, offsets[b]:]``; returns the (B, W) written flags."""
    cols = np.arange(values.shape[1])[None, :]
    used = cols < lengths[:, None]
    rows, idx = np.nonzero(used)
    out[rows, offsets[rows] + idx] = values[rows, idx]
    written = np.zeros(out.shape[:2], dtype=bool)
    written[rows, offsets[rows] + idx] = True
    return written


def text_layout(max_tokens: int, tokens: np.ndarray, input_codes: np.ndarray, input_lengths: np.ndarray,
                target_codes: np.ndarray, target_lengths: np.ndarray, target_offsets: np.ndarray
                ) -> dict[str, torch.Tensor]:
    """Masked text batch: ``tensor`` (B, 2·(max+1)) int64 and its masks / attention codes."""
    batch = len(input_lengths)
    tensor = np.full((batch, text_length(max_tokens)), PAD_ID, dtype=np.int64)
    is_input = _scatter_rows(tensor, _decode_ids(input_codes, tokens), input_lengths, np.zeros(batch, np.int64))
    is_target = _scatter_rows(tensor, _decode_ids(target_codes, tokens), target_lengths, target_offsets)
    return {
        "tensor": torch.from_numpy(tensor),
        "input_mask": torch.from_numpy(~is_input),
        "target_mask": torch.from_numpy(~is_target),
        "decoder_attention_mask": torch.from_numpy(is_target.astype(np.int32)),
    }


def embedding_layout(samples: list[torch.Tensor], max_tokens: int, input_codes: np.ndarray,
                     input_lengths: np.ndarray) -> dict[str, torch.Tensor]:
    """Masked embedding batch (B, max_tokens, C) float32: input rows (sentinels as zero vectors) at ``[0, L_in)``."""
    batch, channels = len(samples), samples[0].shape[1] if samples else 0
    # float32 calloc-backed zeros: pages no input row is written to are never touched (T5: 80 MB per 64 samples)
    tensor = torch.from_numpy(np.zeros((batch, max_tokens, channels), dtype=np.float32))
    for b, emb in enumerate(samples):
        codes = torch.from_numpy(input_codes[b, : input_lengths[b]])
        rows = torch.nonzero(codes >= 0)[:, 0]
        tensor[b, rows] = emb[codes[rows]].float()
    is_input = np.arange(max_tokens)[None, :] < input_lengths[:, None]
    return {
        "tensor": tensor,
        "input_mask": torch.from_numpy(~is_input),
        "target_mask": torch.ones(batch, max_tokens, dtype=torch.bool),
        "decoder_attention_mask": torch.zeros(batch, max_tokens, dtype=torch.int32),
    }
