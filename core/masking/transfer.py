"""Transfer masking (spec §4.2, last paragraph): fixed input and target sets for fine-tuning and inference.

Inputs are fully visible, targets fully predicted. A sequence target is ``[S_1] seq… [EOS] [S_2]`` placed
at offset ``max_tokens`` of the text layout, exactly as span masking with an empty input lays it out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from mm4m.core.interfaces import MaskingPolicy
from mm4m.core.masking.errors import MaskingError
from mm4m.core.masking.grid import block_attention_codes
from mm4m.core.masking.inputs import MaskingBatch, batch_size_for, check_grid
from mm4m.core.masking.result import MaskedBatch
from mm4m.core.masking.unified import mask_embeddings, mask_text, numpy_rng, resolve_specs
from mm4m.core.spec import ModalityKind, ModalitySpec


class TransferMasking(MaskingPolicy):
    """Every token of ``inputs`` is an encoder input, every token of ``targets`` a decoder target."""

    def __init__(self, inputs: Sequence[str], targets: Sequence[str],
                 specs: Mapping[str, ModalitySpec] | Sequence[ModalitySpec] | None = None):
        both = sorted(set(inputs) & set(targets))
        if both:
            raise MaskingError(f"modality '{both[0]}' is both an input and a target; transfer masking needs "
                               "disjoint sets")
        self.inputs, self.targets = tuple(inputs), tuple(targets)
        self.specs = resolve_specs(self.modalities, specs)
        for key in self.inputs:
            if not self.specs[key].can_be_input:
                raise MaskingError(f"modality '{key}' cannot be an input (can_be_input is false in its spec)")
        for key in self.targets:
            if not self.specs[key].can_be_target:
                raise MaskingError(f"modality '{key}' cannot be a target (can_be_target is false in its spec)")

    @property
    def modalities(self) -> tuple[str, ...]:
        """Inputs then targets, the order of the output."""
        return self.inputs + self.targets

    def __call__(self, batch: MaskingBatch, *, generator: torch.Generator | None = None
                 ) -> dict[str, dict[str, torch.Tensor]]:
        """The model's ``mod_dict`` for ``batch``."""
        return self.mask(batch, generator=generator).modalities

    def mask(self, batch: MaskingBatch, *, generator: torch.Generator | None = None) -> MaskedBatch:
        """Mask ``batch``; the result is deterministic (``generator`` is accepted for interface parity)."""
        size = batch_size_for(batch, self.modalities)
        rng = numpy_rng(generator)
        out = MaskedBatch(modalities={})
        for key in self.modalities:
            spec, is_input = self.specs[key], key in self.inputs
            # a whole sequence target is [S_1] + sequence + [S_2]: up to max_tokens + 2 ids
            whole_target = spec.max_tokens + (0 if spec.kind.is_image else 2)
            b_in = np.full(size, spec.max_tokens if is_input else 0, dtype=np.int64)
            b_tgt = np.full(size, 0 if is_input else whole_target, dtype=np.int64)
            out.input_budgets[key], out.target_budgets[key] = b_in, b_tgt
            out.modalities[key] = self._mask_modality(rng, spec, batch[key], is_input, b_in, b_tgt, out)
        return out

    def _mask_modality(self, rng: np.random.Generator, spec: ModalitySpec, data: Any, is_input: bool,
                       b_in: np.ndarray, b_tgt: np.ndarray, out: MaskedBatch) -> dict[str, torch.Tensor]:
        if spec.kind.is_image:
            tensor = check_grid(spec, data)
            visible = np.full((len(tensor), spec.max_tokens), True)
            hidden = ~visible
            return {"tensor": tensor, "input_mask": torch.from_numpy(hidden if is_input else visible),
                    "target_mask": torch.from_numpy(visible if is_input else hidden),
                    "decoder_attention_mask": torch.from_numpy(block_attention_codes(hidden if is_input else visible))}
        keep = np.ones(len(b_in))
        if spec.kind is ModalityKind.SEQUENCE_EMBEDDING:
            return mask_embeddings(rng, spec.key, spec, data, keep, b_in, b_tgt, out)
        return mask_text(rng, spec.key, spec, data, keep, b_in, b_tgt, np.full(len(b_in), spec.max_tokens), out)
