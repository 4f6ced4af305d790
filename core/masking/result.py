"""`MaskedBatch`: a policy's output plus the draws behind it, so tests and users can check invariants."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from mm4m.core.masking.inputs import PackedSequences


@dataclass(frozen=True)
class MaskedBatch:
    """Masked modalities (the model's ``mod_dict``) with per-sample budgets and sequence details.

    ``input_budgets``/``target_budgets``: (B,) per modality — the tokens each modality was granted;
    ``input_totals``/``target_totals``: (B,) the totals N_in / N_tgt that were split (unified policy).
    ``sequences``: the packed ``[EOS]``-terminated sequences span masking worked on (sequence kinds only).
    ``target_truncated``: (B,) per text modality, True where the target was cut to its budget;
    ``target_offsets``: (B,) per text modality, where its target block starts in the layout.
    """

    modalities: dict[str, dict[str, torch.Tensor]]
    input_budgets: dict[str, np.ndarray] = field(default_factory=dict)
    target_budgets: dict[str, np.ndarray] = field(default_factory=dict)
    input_totals: np.ndarray | None = None
    target_totals: np.ndarray | None = None
    components: np.ndarray | None = None
    sequences: dict[str, PackedSequences] = field(default_factory=dict)
    target_truncated: dict[str, np.ndarray] = field(default_factory=dict)
    target_offsets: dict[str, np.ndarray] = field(default_factory=dict)
