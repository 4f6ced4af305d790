"""Per-modality embedding layers shared by all plugins (spec §2.4).

Encoder embeddings map a modality's tensor to ``(x, emb)``: token content and position+modality
embedding, both (B, N, D). Decoder embeddings give the position+modality embedding of target slots,
token embeddings for teacher forcing, and the modality's output head. Parameter and buffer names
(``mod_emb``, ``pos_emb``, ``proj``, ``token_emb``, ``emb_proj``, ``to_logits``) are those of the
reference state dict, so official checkpoints load strictly.
"""

from __future__ import annotations

import torch
from torch import nn

from mm4m.core.model.positional import SEQUENCE_TABLE_LENGTH, sincos_1d, sincos_2d


class ShapeError(ValueError):
    """A modality tensor of the wrong shape or dtype; the message names the key, expected and found."""


def _check(key: str, ok: bool, expected: str, found: object) -> None:
    if not ok:
        raise ShapeError(f"modality '{key}': expected {expected}, found {found}")


class _Embedding(nn.Module):
    """Common parts: the modality key (for error messages) and the modality embedding ``mod_emb``."""

    def __init__(self, key: str, dim: int):
        super().__init__()
        self.key = key
        self.dim = dim
        self.mod_emb = nn.Parameter(torch.empty(1, 1, dim))
        nn.init.normal_(self.mod_emb, std=0.02)


class _GridPositions(_Embedding):
    """Grid modalities: a 2-D sin-cos buffer, or a learned table (global tokens)."""

    def __init__(self, key: str, dim: int, grid: int, learned_positions: bool):
        super().__init__(key, dim)
        self.num_tokens = grid * grid
        if learned_positions:
            self.pos_emb = nn.Parameter(torch.empty(1, self.num_tokens, dim))
            nn.init.normal_(self.pos_emb, std=0.02)
        else:
            self.register_buffer("pos_emb", sincos_2d(grid, grid, dim))

    def _grid_emb(self, batch: int) -> torch.Tensor:
        return (self.pos_emb + self.mod_emb).expand(batch, -1, -1)

    def _flat_ids(self, tensor: torch.Tensor) -> torch.Tensor:
        _check(self.key, not tensor.is_floating_point(), "integer token ids", f"dtype {tensor.dtype}")
        ids = tensor.flatten(1) if tensor.dim() == 3 else tensor
        _check(self.key, ids.dim() == 2 and ids.shape[1] == self.num_tokens,
               f"token ids of shape (B, {self.num_tokens}) or (B, h, w)", tuple(tensor.shape))
        return ids


class _SequencePositions(_Embedding):
    """Sequence modalities: a (1, 512, D) 1-D sin-cos buffer indexed by compacted positions."""

    def __init__(self, key: str, dim: int, max_length: int):
        super().__init__(key, dim)
        self.max_length = max_length
        self.register_buffer("pos_emb", sincos_1d(SEQUENCE_TABLE_LENGTH, dim))

    def _compacted_emb(self, excluded: torch.Tensor, limit: int) -> torch.Tensor:
        """pos = cumsum(used) − 1 at used tokens; 0 (and a zero embedding) elsewhere or at positions ≥ limit."""
        used = ~excluded
        pos = torch.cumsum(used, dim=1) - 1
        pos = torch.where(used & (pos < limit), pos, torch.zeros_like(pos))
        emb = self.pos_emb[0, pos] * used.unsqueeze(-1).to(self.pos_emb.dtype)
        return emb + self.mod_emb


class ImagePatchEmbedding(_GridPositions):
    """Raw pixels (B, C, H, W) → linear projection of P×P patches flattened in (row, col, channel) order."""

    def __init__(self, key: str, dim: int, *, channels: int, patch_size: int, grid: int):
        super().__init__(key, dim, grid, learned_positions=False)
        self.channels, self.patch_size, self.grid = channels, patch_size, grid
        self.proj = nn.Linear(channels * patch_size * patch_size, dim, bias=False)

    def forward(self, tensor: torch.Tensor, input_mask: torch.Tensor | None = None):
        size = self.patch_size * self.grid
        _check(self.key, tensor.dim() == 4 and tuple(tensor.shape[1:]) == (self.channels, size, size),
               f"pixels of shape (B, {self.channels}, {size}, {size})", tuple(tensor.shape))
        _check(self.key, tensor.is_floating_point(), "floating-point pixels", f"dtype {tensor.dtype}")
        b, c, p, g = tensor.shape[0], self.channels, self.patch_size, self.grid
        patches = tensor.reshape(b, c, g, p, g, p).permute(0, 2, 4, 3, 5, 1).reshape(b, g * g, p * p * c)
        return self.proj(patches), self._grid_emb(b)


class ImageTokenEmbedding(_GridPositions):
    """Grid token ids (B, h, w) or (B, N) → ``token_emb`` lookup; sin-cos or learned positions."""

    def __init__(self, key: str, dim: int, *, vocab_size: int, grid: int, learned_positions: bool = False):
        super().__init__(key, dim, grid, learned_positions)
        self.token_emb = nn.Embedding(vocab_size, dim)
        nn.init.normal_(self.token_emb.weight, std=0.02)

    def forward(self, tensor: torch.Tensor, input_mask: torch.Tensor | None = None):
        ids = self._flat_ids(tensor)
        return self.token_emb(ids), self._grid_emb(ids.shape[0])


class SequenceEmbedding(_SequencePositions):
    """Text ids (B, L) → ``token_emb`` (padding id 0) with positions compacted over visible tokens."""

    def __init__(self, key: str, dim: int, *, vocab_size: int, max_length: int):
        super().__init__(key, dim, max_length)
        self.token_emb = nn.Embedding(vocab_size, dim, padding_idx=0)
        nn.init.normal_(self.token_emb.weight, std=0.02)

    def forward(self, tensor: torch.Tensor, input_mask: torch.Tensor):
        _check(self.key, tensor.dim() == 2 and not tensor.is_floating_point(),
               "integer token ids of shape (B, L)", f"{tuple(tensor.shape)} {tensor.dtype}")
        _check(self.key, input_mask.shape == tensor.shape, f"input_mask of shape {tuple(tensor.shape)}",
               tuple(input_mask.shape))
        return self.token_emb(tensor), self._compacted_emb(input_mask, SEQUENCE_TABLE_LENGTH)


class SequenceFeatureEmbedding(_SequencePositions):
    """Continuous per-token vectors (B, L, C), e.g. T5-XXL → ``emb_proj`` Linear(C, D) with bias."""

    def __init__(self, key: str, dim: int, *, channels: int, max_length: int):
        super().__init__(key, dim, max_length)
        self.channels = channels
        self.emb_proj = nn.Linear(channels, dim)

    def forward(self, tensor: torch.Tensor, input_mask: torch.Tensor):
        _check(self.key, tensor.dim() == 3 and tensor.shape[2] == self.channels and tensor.is_floating_point(),
               f"float vectors of shape (B, L, {self.channels})", f"{tuple(tensor.shape)} {tensor.dtype}")
        _check(self.key, tuple(input_mask.shape) == tuple(tensor.shape[:2]),
               f"input_mask of shape {tuple(tensor.shape[:2])}", tuple(input_mask.shape))
        return self.emb_proj(tensor), self._compacted_emb(input_mask, SEQUENCE_TABLE_LENGTH)


class ImageTokenDecoderEmbedding(ImageTokenEmbedding):
    """Decoder side of a grid modality: position+modality embedding of every slot and the output head."""

    def __init__(self, key: str, dim: int, *, vocab_size: int, grid: int, learned_positions: bool = False):
        super().__init__(key, dim, vocab_size=vocab_size, grid=grid, learned_positions=learned_positions)
        self.to_logits = nn.Linear(dim, vocab_size, bias=False)

    def forward(self, tensor: torch.Tensor, target_mask: torch.Tensor | None = None):
        """Returns ``(emb, ids)``: (B, N, D) position+modality embedding and (B, N) target ids."""
        ids = self._flat_ids(tensor)
        return self._grid_emb(ids.shape[0]), ids


class SequenceDecoderEmbedding(SequenceEmbedding):
    """Decoder side of a text sequence: teacher-forcing token embeddings, compacted target positions, head."""

    def __init__(self, key: str, dim: int, *, vocab_size: int, max_length: int):
        super().__init__(key, dim, vocab_size=vocab_size, max_length=max_length)
        self.to_logits = nn.Linear(dim, vocab_size, bias=False)

    def forward(self, tensor: torch.Tensor, target_mask: torch.Tensor):
        """Returns ``(x, emb)``: token embeddings of ``tensor`` and positions compacted over targets."""
        _check(self.key, tensor.dim() == 2 and not tensor.is_floating_point(),
               "integer token ids of shape (B, L)", f"{tuple(tensor.shape)} {tensor.dtype}")
        _check(self.key, target_mask.shape == tensor.shape, f"target_mask of shape {tuple(tensor.shape)}",
               tuple(target_mask.shape))
        return self.token_emb(tensor), self._compacted_emb(target_mask, self.max_length)
