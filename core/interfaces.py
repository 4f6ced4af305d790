"""The three extension points of mm4m: `Modality`, `Tokenizer` and `MaskingPolicy`.

They are deliberately small. Plugins implement them (usually by configuring the shared classes in
`mm4m.core.modalities`); the model, masking and generation code only ever talk to these interfaces.
Nothing here imports torch, so specs can be listed and inspected without it.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch
    from torch import nn

    from mm4m.core.spec import DecodingStrategy, ModalitySpec


class Modality(ABC):
    """A registered modality: its spec plus the layers that connect it to the shared transformer."""

    def __init__(self, spec: ModalitySpec):
        self.spec = spec

    @property
    def key(self) -> str:
        """The modality key, e.g. ``tok_depth@224``."""
        return self.spec.key

    @property
    def decoding(self) -> DecodingStrategy | None:
        """Default generation scheme when this modality is a target (None if it cannot be one)."""
        return self.spec.decoding

    @abstractmethod
    def encoder_embedding(self, dim: int) -> nn.Module | None:
        """A fresh encoder embedding of width ``dim``, or None if the modality cannot be an input."""

    @abstractmethod
    def decoder_embedding(self, dim: int) -> nn.Module | None:
        """A fresh decoder embedding (with its output head) of width ``dim``, or None if never a target."""

    def tokenizer(self, source: str | os.PathLike[str] | None = None) -> Tokenizer:
        """This modality's tokenizer, from its spec's binding; ``source`` is the checkpoint/tokenizer file."""
        from mm4m.core.tokenizers.resolve import tokenizer_for

        return tokenizer_for(self.spec, source)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r})"


class Tokenizer(ABC):
    """Turns a modality's raw data into token ids and back (spec §1.5–1.6, ``4m-tokenizers.md``)."""

    #: Modality key (or shared-vocabulary key) this tokenizer serves.
    modality: str
    #: Number of distinct token ids it produces.
    vocab_size: int

    @abstractmethod
    def tokenize(self, data: Any) -> torch.Tensor | list[int]:
        """Raw data (image tensor, string, structured record) → token ids."""

    @abstractmethod
    def detokenize(self, tokens: torch.Tensor | list[int]) -> Any:
        """Token ids → data of the same kind ``tokenize`` accepts (up to its quantisation)."""


class MaskingPolicy(ABC):
    """Chooses, per sample and modality, which tokens the encoder sees and which the decoder predicts.

    Output follows the reference's conventions (spec §4): for every modality a dict with ``tensor``,
    ``input_mask``, ``target_mask`` (bool, **True = excluded**) and ``decoder_attention_mask`` (int).
    """

    @abstractmethod
    def __call__(
        self, batch: Mapping[str, Any], *, generator: torch.Generator | None = None
    ) -> dict[str, dict[str, torch.Tensor]]:
        """Mask a whole batch of modality tensors; ``generator`` makes the draw reproducible."""
