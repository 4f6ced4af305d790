"""A structured modality's `Tokenizer`: its serialiser followed by the shared 4M text tokenizer."""

from __future__ import annotations

import random
from typing import Any

from mm4m.core.interfaces import Tokenizer
from mm4m.core.tokenizers.serializers.base import Record, TextSerializer
from mm4m.core.tokenizers.text import TextTokenizer


class StructuredTextTokenizer(Tokenizer):
    """Records → 4M text → WordPiece ids, and back; what det, metadata, poses, palette and SAM instances use."""

    def __init__(self, serializer: TextSerializer[Record], text: TextTokenizer):
        self.serializer = serializer
        self.text = text
        self.modality = serializer.modality
        self.vocab_size = text.vocab_size

    def tokenize_chunks(self, data: Record | dict, rng: random.Random | None = None) -> list[list[int]]:
        """Ids per chunk, the units that span masking keeps or drops whole (one per item for metadata)."""
        return self.text.tokenize_batch(self.serializer.chunks(self.serializer.validate(data), rng))

    def tokenize(self, data: Record | dict, rng: random.Random | None = None) -> list[int]:
        """All ids of the record's text (no [EOS]: the masking step appends it)."""
        return [token for chunk in self.tokenize_chunks(data, rng) for token in chunk]

    def detokenize(self, tokens: Any) -> Record:
        """The record the ids spell, up to the serialisation's quantisation (stops at [EOS])."""
        return self.serializer.parse(self.text.detokenize(tokens))

    def __repr__(self) -> str:
        return f"StructuredTextTokenizer({self.modality!r}, {self.text!r})"
