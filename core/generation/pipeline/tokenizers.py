"""`TokenizerSet`: the tokenizers of one run, loaded once per modality, checked against the modality's spec."""

from __future__ import annotations

import os
from collections.abc import Mapping

import torch

from mm4m.core.generation.pipeline.errors import MissingTokenizerError, PipelineError
from mm4m.core.interfaces import Tokenizer
from mm4m.core.spec import ModalitySpec, TokenizerFamily

TokenizerSource = str | os.PathLike[str] | Tokenizer


class TokenizerSet:
    """The tokenizers of one run, from given objects or sources per modality key, each loaded once.

    Text modalities fall back to the source of the key whose vocabulary they share, then to
    ``$MM4M_TEXT_TOKENIZER``; neural tokenizers are moved to ``device``.
    """

    def __init__(self, sources: Mapping[str, TokenizerSource] | None = None, *,
                 device: str | torch.device = "cpu"):
        self.sources = dict(sources or {})
        self.device = torch.device(device)
        self._loaded: dict[str, Tokenizer] = {}

    def has_source(self, spec: ModalitySpec) -> bool:
        """True when a tokenizer (or its checkpoint) was given for ``spec``."""
        return self._source(spec) is not None

    def get(self, spec: ModalitySpec, *, purpose: str) -> Tokenizer:
        """The tokenizer of ``spec``; a missing one is an error naming ``purpose`` and what to pass."""
        if spec.key not in self._loaded:
            from mm4m.core.tokenizers.resolve import TokenizerUnavailableError
            from mm4m.registry.default import get_registry

            source = self._source(spec)
            try:
                tokenizer = source if isinstance(source, Tokenizer) else get_registry().get(spec.key).tokenizer(source)
            except TokenizerUnavailableError as exc:
                raise MissingTokenizerError(f"{purpose} needs a tokenizer: {exc}", key=spec.key) from None
            self._loaded[spec.key] = _checked(spec, _to_device(tokenizer, self.device))
        return self._loaded[spec.key]

    def _source(self, spec: ModalitySpec) -> TokenizerSource | None:
        source = self.sources.get(spec.key)
        if source is None and spec.shared_vocab is not None:
            source = self.sources.get(spec.shared_vocab)
        return source


def tokenizer_device(tokenizer: Tokenizer) -> torch.device:
    """Where a neural tokenizer's weights are (the CPU for text tokenizers)."""
    from mm4m.core.tokenizers.neural import NeuralTokenizer

    return next(tokenizer.model.parameters()).device if isinstance(tokenizer, NeuralTokenizer) \
        else torch.device("cpu")


def _to_device(tokenizer: Tokenizer, device: torch.device) -> Tokenizer:
    from mm4m.core.tokenizers.neural import NeuralTokenizer

    if isinstance(tokenizer, NeuralTokenizer):
        tokenizer.model.to(device)
    return tokenizer


def _checked(spec: ModalitySpec, tokenizer: Tokenizer) -> Tokenizer:
    """The tokenizer must produce the modality's vocabulary (and, for Memcodes, one code per token)."""
    from mm4m.core.tokenizers.neural import NeuralTokenizer

    if spec.vocab_size is not None and tokenizer.vocab_size != spec.vocab_size:
        raise PipelineError(f"tokenizer of '{spec.key}': expected a vocabulary of {spec.vocab_size} (the "
                            f"modality's), found {tokenizer.vocab_size}")
    if isinstance(tokenizer, NeuralTokenizer) and tokenizer.family is TokenizerFamily.MEMCODES_MLP:
        heads = tokenizer.model.config.num_codebooks
        if heads != spec.max_tokens:
            raise PipelineError(f"tokenizer of '{spec.key}': expected {spec.max_tokens} codebooks (one per "
                                f"token), found {heads}")
    return tokenizer
