"""Resolving a modality's tokenizer from its spec (``tokenizer = {family, id}``).

A tokenizer id registered through the registry (a plugin's ``mm4m_tokenizers`` hook, or
``register_tokenizer`` in-process) wins; otherwise the core builds the family it knows: the shared
WordPiece for text (wrapped with the modality's serialiser for structured data) and the released
checkpoint format for VQ-VAE, Memcodes-MLP and DiVAE tokenizers.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from mm4m.core.spec import ModalitySpec, TokenizerFamily

if TYPE_CHECKING:  # pragma: no cover
    from mm4m.core.interfaces import Tokenizer
    from mm4m.core.tokenizers.serializers import TextSerializer


class TokenizerUnavailableError(LookupError):
    """A modality whose tokenizer cannot be built: none exists, or its checkpoint was not given."""


def tokenizer_for(spec: ModalitySpec, source: str | os.PathLike[str] | None = None, *,
                  serializer: TextSerializer | None = None) -> Tokenizer:
    """The tokenizer of ``spec``, loaded from ``source`` (a checkpoint or tokenizer file, or a hub id)."""
    from mm4m.registry.default import get_registry

    binding = spec.tokenizer
    if binding.family is TokenizerFamily.NONE:
        raise TokenizerUnavailableError(
            f"modality '{spec.key}' has no tokenizer: its raw {spec.kind.value} data is fed to the model directly")
    registry = get_registry()
    if registry.has_tokenizer(binding.id):
        return registry.tokenizer_factory(binding.id)(source)
    if binding.family is TokenizerFamily.WORDPIECE:
        return _text_tokenizer(spec, source, serializer)
    if source is None:
        raise TokenizerUnavailableError(
            f"tokenizer '{binding.id}' of modality '{spec.key}' needs its checkpoint: pass the path of its "
            f"released .safetensors file")
    from mm4m.core.tokenizers.neural import load_tokenizer

    return load_tokenizer(source, modality=spec.key, normalization=spec.normalization)


def _text_tokenizer(spec: ModalitySpec, source, serializer: TextSerializer | None) -> Tokenizer:
    from mm4m.core.tokenizers.text import TOKENIZER_PATH_ENV, OFFICIAL_FILENAME, load_text_tokenizer

    source = source if source is not None else os.environ.get(TOKENIZER_PATH_ENV)
    if not source:
        raise TokenizerUnavailableError(
            f"modality '{spec.key}' uses the 4M text tokenizer: pass the path of {OFFICIAL_FILENAME} (or a hub "
            f"id), or set {TOKENIZER_PATH_ENV}")
    text = load_text_tokenizer(source, modality=spec.key)
    if serializer is None:
        return text
    from mm4m.core.tokenizers.serializers import StructuredTextTokenizer

    return StructuredTextTokenizer(serializer, text)
