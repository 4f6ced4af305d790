"""Ready-made `Modality` classes, one per kind; a plugin picks one and hands it its spec.

Each class builds the shared embedding layers of `mm4m.core.model.embeddings` from the spec, so a
plugin only chooses and configures. torch is imported when a layer is built, never at import time.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from mm4m.core.interfaces import Modality, Tokenizer
from mm4m.core.spec import ModalityKind, ModalitySpec, PositionalEmbedding

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch import nn

    from mm4m.core.tokenizers.serializers import TextSerializer


class _KindChecked(Modality):
    """Refuses specs of another kind, so a plugin cannot pair a spec with the wrong layers."""

    kinds: tuple[ModalityKind, ...] = ()

    def __init__(self, spec: ModalitySpec):
        if spec.kind not in self.kinds:
            allowed = ", ".join(k.value for k in self.kinds)
            raise TypeError(f"{type(self).__name__} serves kinds {allowed}; '{spec.key}' is '{spec.kind.value}'")
        super().__init__(spec)


class ImagePixelModality(_KindChecked):
    """Raw images fed to the encoder through a linear patch projection; never a target (e.g. ``rgb@224``)."""

    kinds = (ModalityKind.IMAGE_PIXELS,)

    def encoder_embedding(self, dim: int) -> nn.Module | None:
        from mm4m.core.model.embeddings import ImagePatchEmbedding

        s = self.spec
        return ImagePatchEmbedding(s.key, dim, channels=s.channels, patch_size=s.patch_size, grid=s.grid_size)

    def decoder_embedding(self, dim: int) -> nn.Module | None:
        return None


class ImageTokenModality(_KindChecked):
    """Token grids of an image tokenizer (``tok_depth@224``) or global tokens (``tok_dinov2_global``)."""

    kinds = (ModalityKind.IMAGE_TOKENS, ModalityKind.GLOBAL_TOKENS)

    def _options(self) -> dict:
        s = self.spec
        learned = s.positional_embedding is PositionalEmbedding.LEARNED
        return {"vocab_size": s.vocab_size, "grid": s.grid_size, "learned_positions": learned}

    def encoder_embedding(self, dim: int) -> nn.Module | None:
        from mm4m.core.model.embeddings import ImageTokenEmbedding

        return ImageTokenEmbedding(self.key, dim, **self._options()) if self.spec.can_be_input else None

    def decoder_embedding(self, dim: int) -> nn.Module | None:
        from mm4m.core.model.embeddings import ImageTokenDecoderEmbedding

        return ImageTokenDecoderEmbedding(self.key, dim, **self._options()) if self.spec.can_be_target else None


class TextModality(_KindChecked):
    """Sequences of the shared WordPiece vocabulary; structured modalities pass the serialiser that turns their
    records into 4M text (detections, metadata, poses, ...), plain text (captions) passes none."""

    kinds = (ModalityKind.TEXT_SEQUENCE,)

    def __init__(self, spec: ModalitySpec, serializer: TextSerializer | None = None):
        super().__init__(spec)
        self.serializer = serializer

    def tokenizer(self, source: str | os.PathLike[str] | None = None) -> Tokenizer:
        from mm4m.core.tokenizers.resolve import tokenizer_for

        return tokenizer_for(self.spec, source, serializer=self.serializer)

    def encoder_embedding(self, dim: int) -> nn.Module | None:
        from mm4m.core.model.embeddings import SequenceEmbedding

        s = self.spec
        return SequenceEmbedding(s.key, dim, vocab_size=s.vocab_size, max_length=s.max_positions) \
            if s.can_be_input else None

    def decoder_embedding(self, dim: int) -> nn.Module | None:
        from mm4m.core.model.embeddings import SequenceDecoderEmbedding

        s = self.spec
        return SequenceDecoderEmbedding(s.key, dim, vocab_size=s.vocab_size, max_length=s.max_positions) \
            if s.can_be_target else None


class SequenceFeatureModality(_KindChecked):
    """Continuous per-token vectors such as T5-XXL caption embeddings; input only."""

    kinds = (ModalityKind.SEQUENCE_EMBEDDING,)

    def encoder_embedding(self, dim: int) -> nn.Module | None:
        from mm4m.core.model.embeddings import SequenceFeatureEmbedding

        s = self.spec
        return SequenceFeatureEmbedding(s.key, dim, channels=s.channels, max_length=s.max_positions)

    def decoder_embedding(self, dim: int) -> nn.Module | None:
        return None


MODALITY_CLASS_FOR_KIND: dict[ModalityKind, type[Modality]] = {
    ModalityKind.IMAGE_PIXELS: ImagePixelModality,
    ModalityKind.IMAGE_TOKENS: ImageTokenModality,
    ModalityKind.GLOBAL_TOKENS: ImageTokenModality,
    ModalityKind.TEXT_SEQUENCE: TextModality,
    ModalityKind.SEQUENCE_EMBEDDING: SequenceFeatureModality,
}
"""The default layers for each kind: what ``mm4m.register_modality(spec)`` uses when given only a spec."""


def default_modality(spec: ModalitySpec) -> Modality:
    """The standard `Modality` for ``spec``'s kind."""
    return MODALITY_CLASS_FOR_KIND[spec.kind](spec)
