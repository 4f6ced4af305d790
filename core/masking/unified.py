"""The unified Dirichlet masking policy of 4M (spec §4.1–4.2), applied to a whole batch at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from mm4m.core.interfaces import MaskingPolicy
from mm4m.core.masking.budgets import dirichlet_budgets, sample_components, sample_totals
from mm4m.core.masking.config import AlphasMixture, KeepMode, MaskingConfig, ModalityAlphas
from mm4m.core.masking.errors import MaskingError
from mm4m.core.masking.grid import grid_masks, random_ranks
from mm4m.core.masking.inputs import (
    MaskingBatch,
    batch_size_for,
    check_grid,
    pack_embeddings,
    pack_token_sequences,
)
from mm4m.core.masking.layout import embedding_layout, text_layout
from mm4m.core.masking.result import MaskedBatch
from mm4m.core.masking.span import span_mask
from mm4m.core.spec import ModalityKind, ModalitySpec


def numpy_rng(generator: torch.Generator | None) -> np.random.Generator:
    """A numpy generator seeded from ``generator`` (or torch's global one), so one torch seed fixes a draw."""
    seed = torch.randint(0, 2**62, (1,), generator=generator).item()
    return np.random.default_rng(seed)


def resolve_specs(keys: Sequence[str], specs: Mapping[str, ModalitySpec] | Sequence[ModalitySpec] | None
                  ) -> dict[str, ModalitySpec]:
    """Specs for ``keys``: from the given ones (users' own modalities) or else from the registry."""
    if specs is None:
        from mm4m.registry import get_registry

        registry = get_registry()
        return {key: registry.spec(key) for key in keys}
    by_key = dict(specs) if isinstance(specs, Mapping) else {s.key: s for s in specs}
    missing = [k for k in keys if k not in by_key]
    if missing:
        raise MaskingError(f"no spec given for modality '{missing[0]}' (given: {sorted(by_key)})")
    return {key: by_key[key] for key in keys}


def mask_embeddings(rng: np.random.Generator, key: str, spec: ModalitySpec, data: Any, keep: np.ndarray,
                    b_in: np.ndarray, b_tgt: np.ndarray, out: MaskedBatch) -> dict[str, torch.Tensor]:
    """Span-mask a sequence-embedding modality and lay out its input; its sequences are recorded in ``out``."""
    seqs, samples = pack_embeddings(spec, data)
    spans = span_mask(rng, seqs, keep, b_in, b_tgt, key=key)
    out.sequences[key] = seqs
    return embedding_layout(samples, spec.max_tokens, spans.input_codes, spans.input_lengths)


def mask_text(rng: np.random.Generator, key: str, spec: ModalitySpec, data: Any, keep: np.ndarray,
              b_in: np.ndarray, b_tgt: np.ndarray, target_offsets: np.ndarray,
              out: MaskedBatch) -> dict[str, torch.Tensor]:
    """Span-mask a text modality and lay it out, targets at ``target_offsets``; the draw is recorded in ``out``."""
    seqs = pack_token_sequences(spec, data)
    spans = span_mask(rng, seqs, keep, b_in, b_tgt, key=key)
    out.sequences[key] = seqs
    out.target_truncated[key] = spans.truncated
    out.target_offsets[key] = target_offsets
    return text_layout(spec.max_tokens, seqs.tokens, spans.input_codes, spans.input_lengths,
                       spans.target_codes, spans.target_lengths, target_offsets)


class UnifiedMasking(MaskingPolicy):
    """Dirichlet token budgets per sample, random-permutation masking for grids, span masking for sequences.

    Modalities outside ``in_domains`` (or that cannot be inputs) get their sampled input budget dropped,
    likewise for targets: that budget is wasted, as in the reference.
    """

    def __init__(self, config: MaskingConfig,
                 specs: Mapping[str, ModalitySpec] | Sequence[ModalitySpec] | None = None):
        self.config = config
        self.specs = resolve_specs(config.modalities, specs)
        for key in config.out_domains:
            if not self.specs[key].can_be_target:
                raise MaskingError(f"modality '{key}' is in out_domains but its spec says it cannot be a target "
                                   "(can_be_target is false)")
        for key in config.in_domains:
            if not self.specs[key].can_be_input:
                raise MaskingError(f"modality '{key}' is in in_domains but its spec says it cannot be an input "
                                   "(can_be_input is false)")
        rows = [config.mixture.modalities[k] for k in config.modalities]
        self._input_alphas = np.array([r.input_alphas for r in rows], dtype=np.float64).T  # (K, M)
        self._target_alphas = np.array([r.target_alphas for r in rows], dtype=np.float64).T
        weights = config.mixture.sampling_weights
        self._weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        self._max_tokens = np.array([self.specs[k].max_tokens for k in config.modalities], dtype=np.int64)
        self._is_grid = np.array([self.specs[k].kind.is_image for k in config.modalities])
        self._is_input = np.array([k in config.in_domains for k in config.modalities])
        self._is_target = np.array([k in config.out_domains for k in config.modalities])

    @classmethod
    def for_specs(cls, specs: Sequence[ModalitySpec], *, num_input_tokens: int, num_target_tokens: int,
                  input_alpha: float = 1.0, target_alpha: float = 1.0,
                  keep: KeepMode = KeepMode.RANDOM) -> UnifiedMasking:
        """One-component policy over ``specs`` (every modality an input/target where its spec allows)."""
        row = ModalityAlphas(input_alphas=(input_alpha,), target_alphas=(target_alpha,), keep=(keep,))
        config = MaskingConfig(
            in_domains=tuple(s.key for s in specs if s.can_be_input),
            out_domains=tuple(s.key for s in specs if s.can_be_target),
            mixture=AlphasMixture(modalities={s.key: row for s in specs}),
            num_input_tokens=num_input_tokens, num_target_tokens=num_target_tokens,
        )
        return cls(config, specs)

    @property
    def modalities(self) -> tuple[str, ...]:
        """Keys this policy masks, in output order."""
        return self.config.modalities

    def __call__(self, batch: MaskingBatch, *, generator: torch.Generator | None = None
                 ) -> dict[str, dict[str, torch.Tensor]]:
        """The model's ``mod_dict`` for ``batch``; see `mask` for the budgets behind it."""
        return self.mask(batch, generator=generator).modalities

    def mask(self, batch: MaskingBatch, *, generator: torch.Generator | None = None) -> MaskedBatch:
        """Mask every sample of ``batch`` ({key: data}, see `mm4m.core.masking.inputs`) at once."""
        size = batch_size_for(batch, self.modalities)
        rng = numpy_rng(generator)
        components = sample_components(rng, self._weights, self._input_alphas.shape[0], size)
        totals_in = sample_totals(rng, self.config.input_tokens_range, size)
        totals_tgt = sample_totals(rng, self.config.target_tokens_range, size)
        b_in, b_tgt = self._budgets(rng, components, totals_in, totals_tgt)
        out = MaskedBatch(modalities={}, components=components, input_totals=totals_in, target_totals=totals_tgt)
        for m, key in enumerate(self.modalities):
            out.input_budgets[key], out.target_budgets[key] = b_in[:, m], b_tgt[:, m]
            keep = self._keep_probabilities(rng, key, components)
            out.modalities[key] = self._mask_modality(rng, key, batch[key], b_in[:, m], b_tgt[:, m], keep, out)
        return out

    def _budgets(self, rng: np.random.Generator, components: np.ndarray, totals_in: np.ndarray,
                 totals_tgt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, M) input and target budgets; grid targets are capped by what the input left over."""
        caps = np.broadcast_to(self._max_tokens, (len(components), len(self._max_tokens)))
        b_in = dirichlet_budgets(rng, self._input_alphas, components, totals_in, caps) * self._is_input
        target_caps = np.where(self._is_grid, caps - b_in, caps)
        b_tgt = dirichlet_budgets(rng, self._target_alphas, components, totals_tgt, target_caps) * self._is_target
        return b_in, b_tgt

    def _keep_probabilities(self, rng: np.random.Generator, key: str, components: np.ndarray) -> np.ndarray:
        """Per-sample keep probability of span masking: U(0,1), 1, or a fair 0/1 coin by keep mode."""
        row = self.config.mixture.modalities[key]
        mode = np.array([row.keep_mode(c).value for c in range(self._input_alphas.shape[0])])[components]
        uniform, coin = rng.random(len(components)), rng.integers(0, 2, size=len(components))
        return np.select([mode == KeepMode.RANDOM.value, mode == KeepMode.BINARY.value], [uniform, coin], default=1.0)

    def _mask_modality(self, rng: np.random.Generator, key: str, data: Any, b_in: np.ndarray, b_tgt: np.ndarray,
                       keep: np.ndarray, out: MaskedBatch) -> dict[str, torch.Tensor]:
        spec = self.specs[key]
        if spec.kind.is_image:
            tensor = check_grid(spec, data)
            masks = grid_masks(random_ranks(rng, len(b_in), spec.max_tokens), b_in, b_tgt)
            return {"tensor": tensor, **{name: torch.from_numpy(m) for name, m in masks.items()}}
        if spec.kind is ModalityKind.SEQUENCE_EMBEDDING:
            return mask_embeddings(rng, key, spec, data, keep, b_in, np.zeros_like(b_tgt), out)
        return mask_text(rng, key, spec, data, keep, b_in, b_tgt, b_in, out)
