"""Hypothesis strategies for masking: random modality specs and sets, alphas (0 and 1000 included),
mixtures, budgets, token sequences and whole batches. Plugin authors use them to test their own
modalities and policies; mm4m's own property tests are built from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from hypothesis import strategies as st

from mm4m.core.masking.config import AlphasMixture, KeepMode, MaskingConfig, ModalityAlphas
from mm4m.core.spec import DecodingStrategy, ModalityKind, ModalitySpec
from mm4m.core.special_tokens import FIRST_SENTINEL_ID, NUM_SENTINELS

FIRST_ORDINARY_ID = FIRST_SENTINEL_ID + NUM_SENTINELS
"""Lowest id a tokenised sequence may hold: data never contains [PAD]/[EOS]/sentinels."""

_KEYS = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)


def alphas() -> st.SearchStrategy[float]:
    """Dirichlet alphas, always including the edge values 0 (never chosen) and 1000 (takes everything)."""
    return st.one_of(st.sampled_from([0.0, 1000.0]), st.floats(0.01, 20.0))


@st.composite
def modality_specs(draw: st.DrawFn, kinds: Sequence[ModalityKind] | None = None, key: str | None = None,
                   max_sequence_tokens: int = 64, target: bool | None = None,
                   input: bool | None = None) -> ModalitySpec:
    """A valid `ModalitySpec` of a random kind with small sizes (grids up to 8×8).

    ``target``/``input`` force whether it can be a target (token kinds only) / an input.
    """
    kind = draw(st.sampled_from(list(kinds or ModalityKind)))
    key = key if key is not None else draw(_KEYS)
    if kind.is_image:
        patch, grid = draw(st.sampled_from([1, 2, 4])), draw(st.integers(1, 8))
        fields: dict[str, Any] = {"patch_size": patch, "input_size": patch * grid}
        if kind is ModalityKind.IMAGE_PIXELS:
            fields |= {"channels": 3, "positional_embedding": "sincos_2d", "tokenizer": {"family": "none"}}
        else:
            learned = kind is ModalityKind.GLOBAL_TOKENS or draw(st.booleans())
            fields |= {"vocab_size": draw(st.integers(2, 4096)), "tokenizer": {"family": "vqvae", "id": "test-vq"},
                       "positional_embedding": "learned" if learned else "sincos_2d"}
        decoding = draw(st.sampled_from([DecodingStrategy.MASKGIT, DecodingStrategy.ROAR]))
    elif kind is ModalityKind.TEXT_SEQUENCE:
        fields = {"max_tokens": draw(st.integers(1, max_sequence_tokens)), "positional_embedding": "sincos_1d",
                  "vocab_size": draw(st.integers(FIRST_ORDINARY_ID + 1, 30000)),
                  "tokenizer": {"family": "wordpiece", "id": "test-text"}}
        decoding = DecodingStrategy.AUTOREGRESSIVE
    else:
        fields = {"max_tokens": draw(st.integers(1, 16)), "channels": draw(st.integers(1, 8)),
                  "positional_embedding": "sincos_1d", "tokenizer": {"family": "none"}}
        decoding = None
    continuous = kind in (ModalityKind.IMAGE_PIXELS, ModalityKind.SEQUENCE_EMBEDDING)
    can_be_target = not continuous and (draw(st.booleans() | st.just(True)) if target is None else target)
    can_be_input = continuous or not can_be_target or (draw(st.booleans() | st.just(True)) if input is None
                                                        else input)
    return ModalitySpec(key=key, kind=kind, can_be_input=can_be_input, can_be_target=can_be_target,
                        decoding=decoding if can_be_target else None, **fields)


@st.composite
def modality_sets(draw: st.DrawFn, min_size: int = 1, max_size: int = 5,
                  kinds: Sequence[ModalityKind] | None = None) -> list[ModalitySpec]:
    """Specs with distinct keys, at least one of which can be an input and one a target."""
    keys = draw(st.lists(_KEYS, min_size=min_size, max_size=max_size, unique=True))
    specs = [draw(modality_specs(kinds=kinds, key=k)) for k in keys]
    if not any(s.can_be_target for s in specs):
        specs.append(draw(modality_specs(kinds=[ModalityKind.TEXT_SEQUENCE], key=_fresh_key(specs), target=True)))
    if not any(s.can_be_input for s in specs):
        specs.append(draw(modality_specs(kinds=[ModalityKind.SEQUENCE_EMBEDDING], key=_fresh_key(specs))))
    return specs


def _fresh_key(specs: Sequence[ModalitySpec]) -> str:
    return "x" * (max((len(s.key) for s in specs), default=0) + 1)


@st.composite
def alphas_mixtures(draw: st.DrawFn, keys: Sequence[str], max_components: int = 3) -> AlphasMixture:
    """A K-component mixture over ``keys`` with random alphas, keep modes and optional weights."""
    k = draw(st.integers(1, max_components))
    rows = {key: ModalityAlphas(input_alphas=tuple(draw(st.lists(alphas(), min_size=k, max_size=k))),
                                target_alphas=tuple(draw(st.lists(alphas(), min_size=k, max_size=k))),
                                keep=tuple(draw(st.lists(st.sampled_from(list(KeepMode)), min_size=k, max_size=k))))
            for key in keys}
    weights = draw(st.none() | st.lists(st.floats(0.1, 5.0), min_size=k, max_size=k).map(tuple))
    return AlphasMixture(modalities=rows, sampling_weights=weights)


@st.composite
def masking_configs(draw: st.DrawFn, specs: Sequence[ModalitySpec]) -> MaskingConfig:
    """A config over ``specs``: every modality in the domains its spec allows, random budgets and ranges."""
    total = sum(s.max_tokens for s in specs)
    num_in = draw(st.integers(1, total + 8))
    num_tgt = draw(st.integers(0, total + 8))
    return MaskingConfig(
        in_domains=tuple(s.key for s in specs if s.can_be_input),
        out_domains=tuple(s.key for s in specs if s.can_be_target),
        mixture=draw(alphas_mixtures([s.key for s in specs])),
        num_input_tokens=num_in, num_target_tokens=num_tgt,
        min_input_tokens=draw(st.none() | st.integers(0, num_in)),
        min_target_tokens=draw(st.none() | st.integers(0, num_tgt)),
    )


def token_ids(spec: ModalitySpec) -> st.SearchStrategy[int]:
    """Ordinary ids of ``spec``'s vocabulary (no special tokens)."""
    return st.integers(FIRST_ORDINARY_ID, spec.vocab_size - 1)


def token_sequences(spec: ModalitySpec) -> st.SearchStrategy[list[int]]:
    """Tokenised sequences, sometimes longer than ``max_tokens`` (so truncation is exercised)."""
    return st.lists(token_ids(spec), max_size=spec.max_tokens + 3)


def chunked_sequences(spec: ModalitySpec) -> st.SearchStrategy[list[list[int]]]:
    """Sequences as chunks of 1–4 ids (like metadata items) that span masking keeps or drops whole."""
    return st.lists(st.lists(token_ids(spec), min_size=1, max_size=4), max_size=spec.max_tokens // 2 + 2)


@st.composite
def modality_data(draw: st.DrawFn, spec: ModalitySpec, batch_size: int) -> Any:
    """Masking input for ``spec`` (see `mm4m.core.masking.inputs`) with ``batch_size`` samples."""
    if spec.kind is ModalityKind.TEXT_SEQUENCE:
        samples = chunked_sequences(spec) if draw(st.booleans()) else token_sequences(spec)
        return draw(st.lists(samples, min_size=batch_size, max_size=batch_size))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31)))
    if spec.kind is ModalityKind.SEQUENCE_EMBEDDING:
        lengths = draw(st.lists(st.integers(0, spec.max_tokens + 2), min_size=batch_size, max_size=batch_size))
        return [torch.randn(n, spec.channels, generator=gen) for n in lengths]
    if spec.kind is ModalityKind.IMAGE_PIXELS:
        return torch.rand(batch_size, spec.channels, spec.input_size, spec.input_size, generator=gen)
    return torch.randint(0, spec.vocab_size, (batch_size, spec.max_tokens), generator=gen)


@st.composite
def batches(draw: st.DrawFn, specs: Sequence[ModalitySpec], max_batch: int = 4) -> dict[str, Any]:
    """A batch ``{key: data}`` for ``specs`` with 1..``max_batch`` samples."""
    size = draw(st.integers(1, max_batch))
    return {s.key: draw(modality_data(s, size)) for s in specs}


@dataclass(frozen=True)
class MaskingSetup:
    """Everything one property-test example needs: specs, config, batch and a seed."""

    specs: list[ModalitySpec]
    config: MaskingConfig
    batch: dict[str, Any]
    seed: int

    @property
    def spec_map(self) -> dict[str, ModalitySpec]:
        """Specs by key."""
        return {s.key: s for s in self.specs}


@st.composite
def masking_setups(draw: st.DrawFn, max_modalities: int = 5, max_batch: int = 4) -> MaskingSetup:
    """Random modality mix, mixture, budgets and batch for the unified policy."""
    specs = draw(modality_sets(max_size=max_modalities))
    return MaskingSetup(specs=specs, config=draw(masking_configs(specs)),
                        batch=draw(batches(specs, max_batch)), seed=draw(st.integers(0, 2**31)))
