"""Token sets fed to the encoder and decoder, and the "valid first, then truncate" selection (spec §2.6–2.7)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch

PAD_MODALITY_ID = -1
"""Modality id of padding, masked slots and register tokens."""


@dataclass(frozen=True)
class TokenSet:
    """Concatenated tokens of several modalities; every tensor is batch-first with N tokens.

    ``mask`` is True where a token is excluded (4M convention); ``mod_ids`` holds each token's
    modality id (−1 for padding). Decoder sets also carry ``target_ids`` and attention ``codes``.
    """

    x: torch.Tensor  # (B, N, D) content
    emb: torch.Tensor  # (B, N, D) position + modality embedding
    mask: torch.Tensor  # (B, N) bool, True = excluded
    mod_ids: torch.Tensor  # (B, N) int64
    target_ids: torch.Tensor | None = None  # (B, N) int64, decoder only
    codes: torch.Tensor | None = None  # (B, N) int64 decoder_attention_mask codes, decoder only

    @property
    def num_tokens(self) -> int:
        return self.mask.shape[1]

    @staticmethod
    def concat(parts: list[TokenSet]) -> TokenSet:
        """Concatenate along tokens, in the given order."""
        merged = {}
        for f in fields(TokenSet):
            values = [getattr(p, f.name) for p in parts]
            merged[f.name] = None if values[0] is None else torch.cat(values, dim=1)
        return TokenSet(**merged)

    def select_valid_first(self, budget: int) -> tuple[TokenSet, torch.Tensor]:
        """Stable-sort valid tokens first and keep ``budget`` slots; returns the set and the kept indices.

        If fewer tokens are valid the rest are padding; if more, the last valid ones in concatenation
        order are dropped. Padding slots get zero content/emb and target id 0; their modality id is
        left as is (the decoder's attention rules read it), see `with_padding_ids`.
        """
        order = torch.sort(self.mask.to(torch.int8), dim=1, stable=True).indices[:, :budget]
        picked = {}
        for f in fields(TokenSet):
            value = getattr(self, f.name)
            if value is None:
                picked[f.name] = None
            elif value.dim() == 3:
                picked[f.name] = torch.gather(value, 1, order.unsqueeze(-1).expand(-1, -1, value.shape[-1]))
            else:
                picked[f.name] = torch.gather(value, 1, order)
        kept = TokenSet(**picked)
        keep = (~kept.mask).unsqueeze(-1).to(kept.x.dtype)
        target_ids = None if kept.target_ids is None else kept.target_ids.masked_fill(kept.mask, 0)
        return replace(kept, x=kept.x * keep, emb=kept.emb * keep, target_ids=target_ids), order

    def with_padding_ids(self) -> TokenSet:
        """The same set with modality id −1 at excluded slots."""
        return replace(self, mod_ids=self.mod_ids.masked_fill(self.mask, PAD_MODALITY_ID))
