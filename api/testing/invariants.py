"""Checkers for the masking invariants of spec §4.3 (items 1–11 and 17), usable on any policy's output.

Each checker raises `InvariantViolation` naming the invariant, the modality, the sample, and the
expected and found values. `check_mod_dict` needs only a policy's output (any `MaskingPolicy`);
`check_masked_batch` also checks the budgets a `MaskedBatch` records (the built-in policies).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from mm4m.core.masking.inputs import PackedSequences
from mm4m.core.masking.layout import text_length
from mm4m.core.masking.result import MaskedBatch
from mm4m.core.masking.span import merge_span_masking
from mm4m.core.spec import ModalityKind, ModalitySpec
from mm4m.core.special_tokens import PAD_ID, is_sentinel, sentinel_id

MASK_FIELDS = ("tensor", "input_mask", "target_mask", "decoder_attention_mask")


class InvariantViolation(AssertionError):
    """A masking output that breaks an invariant of spec §4.3."""


def _fail(item: int | str, key: str, sample: int | None, message: str) -> InvariantViolation:
    where = f"modality '{key}'" + ("" if sample is None else f", sample {sample}")
    return InvariantViolation(f"invariant {item}: {where}: {message}")


def positions_used(mask: torch.Tensor) -> np.ndarray:
    """Indices where a True = excluded mask says "used"."""
    return np.flatnonzero(~mask.numpy())


def sequence_input_target(masked: Mapping[str, torch.Tensor], b: int) -> tuple[list[int], list[int]]:
    """A text modality's visible input ids and target ids of sample ``b``, in position order."""
    tensor = masked["tensor"][b].numpy()
    return (tensor[positions_used(masked["input_mask"][b])].tolist(),
            tensor[positions_used(masked["target_mask"][b])].tolist())


# ---------------------------------------------------------------- invariants on the output alone


def check_encoding(key: str, spec: ModalitySpec, masked: Mapping[str, torch.Tensor]) -> None:
    """17 and shapes: bool masks (True = excluded) and int32 codes, one entry per token position."""
    missing = [f for f in MASK_FIELDS if f not in masked]
    if missing:
        raise _fail(17, key, None, f"expected fields {list(MASK_FIELDS)}, missing {missing}")
    for name in ("input_mask", "target_mask"):
        if masked[name].dtype != torch.bool:
            raise _fail(17, key, None, f"'{name}' must be bool (True = excluded), found {masked[name].dtype}")
    if masked["decoder_attention_mask"].dtype != torch.int32:
        raise _fail(17, key, None, f"'decoder_attention_mask' must be int32, found "
                                   f"{masked['decoder_attention_mask'].dtype}")
    length = text_length(spec.max_tokens) if spec.kind is ModalityKind.TEXT_SEQUENCE else spec.max_tokens
    batch = len(masked["tensor"])
    for name in ("input_mask", "target_mask", "decoder_attention_mask"):
        if tuple(masked[name].shape) != (batch, length):
            raise _fail(17, key, None, f"'{name}' must have shape {(batch, length)}, found {tuple(masked[name].shape)}")
    coded = (masked["decoder_attention_mask"] != 0) & masked["target_mask"]
    if coded.any():
        b = int(torch.nonzero(coded)[0, 0])
        raise _fail(17, key, b, "decoder_attention_mask is non-zero at a position excluded from the targets")


def check_roles(key: str, spec: ModalitySpec, masked: Mapping[str, torch.Tensor]) -> None:
    """A modality that cannot be an input (target) has every input (target) position excluded."""
    for name, allowed in (("input_mask", spec.can_be_input), ("target_mask", spec.can_be_target)):
        if not allowed and not bool(masked[name].all()):
            raise _fail(17, key, None, f"its spec forbids this role, but '{name}' has False (used) entries")


def check_disjoint(key: str, masked: Mapping[str, torch.Tensor]) -> None:
    """1: no token is both an input and a target."""
    both = ~masked["input_mask"] & ~masked["target_mask"]
    if both.any():
        b, i = (int(x) for x in torch.nonzero(both)[0])
        raise _fail(1, key, b, f"position {i} is both input and target")


def check_grid_attention(key: str, masked: Mapping[str, torch.Tensor]) -> None:
    """5: one non-zero code (= #targets) at the first target index, or all zero without targets."""
    for b in range(len(masked["tensor"])):
        targets = positions_used(masked["target_mask"][b])
        codes = masked["decoder_attention_mask"][b].numpy()
        expected = np.zeros_like(codes)
        if targets.size:
            expected[targets[0]] = targets.size
        if not np.array_equal(codes, expected):
            nz = np.flatnonzero(codes)
            raise _fail(5, key, b, f"expected code {targets.size} at index {targets[:1].tolist()} only, "
                                   f"found non-zero codes {codes[nz].tolist()} at {nz.tolist()}")


def check_text_layout(key: str, masked: Mapping[str, torch.Tensor], offsets: np.ndarray | None = None) -> None:
    """6: inputs are a prefix, targets one contiguous block (starting at ``offsets``, = b_in for the unified
    policy, when known), the rest [PAD] with both masks True and code 0; text target codes are 1."""
    for b in range(len(masked["tensor"])):
        inputs = positions_used(masked["input_mask"][b])
        targets = positions_used(masked["target_mask"][b])
        if not np.array_equal(inputs, np.arange(inputs.size)):
            raise _fail(6, key, b, f"input positions must be a prefix [0, {inputs.size}), found {inputs.tolist()}")
        if targets.size and not np.array_equal(targets, np.arange(targets[0], targets[0] + targets.size)):
            raise _fail(6, key, b, f"target positions must be contiguous, found {targets.tolist()}")
        if offsets is not None and targets.size and targets[0] != offsets[b]:
            raise _fail(6, key, b, f"targets must start at {int(offsets[b])}, found {int(targets[0])}")
        codes = masked["decoder_attention_mask"][b].numpy()
        if not np.array_equal(codes[targets], np.ones(targets.size, dtype=codes.dtype)):
            raise _fail(6, key, b, f"sequence target codes must all be 1, found {sorted(set(codes[targets]))}")
        unused = masked["input_mask"][b] & masked["target_mask"][b]
        if (masked["tensor"][b][unused] != PAD_ID).any():
            raise _fail(6, key, b, "positions that are neither input nor target must hold [PAD]")


def check_sentinels(key: str, masked: Mapping[str, torch.Tensor], truncated: np.ndarray | None = None) -> None:
    """8: input sentinels are [S_1]..[S_n] in order; a target starts with a sentinel, every target sentinel
    but the last is in the input, and a target known to be uncut (``truncated`` False) is ``[S_1] … [S_{n+1}]``."""
    for b in range(len(masked["tensor"])):
        inputs, targets = sequence_input_target(masked, b)
        in_sent = [t for t in inputs if is_sentinel(t)]
        if in_sent != [sentinel_id(k) for k in range(1, len(in_sent) + 1)]:
            raise _fail(8, key, b, f"input sentinels must be [S_1]..[S_n] once each, found ids {in_sent}")
        if not targets:
            continue
        if not is_sentinel(targets[0]):
            raise _fail(8, key, b, f"the target must start with a sentinel, found id {targets[0]}")
        tgt_sent = [t for t in targets if is_sentinel(t)]
        if inputs and not set(tgt_sent[:-1]) <= set(in_sent):
            raise _fail(8, key, b, f"target sentinels {tgt_sent} are not all in the input {in_sent}")
        if truncated is None or truncated[b]:
            continue
        count = len(in_sent) + 1 if inputs else len(tgt_sent)  # an empty input hides one run, or none
        expected = [sentinel_id(k) for k in range(1, count + 1)]
        if tgt_sent != expected or targets[-1] != expected[-1]:
            raise _fail(8, key, b, f"an uncut target must hold sentinels {expected} and end with the last, "
                                   f"found {tgt_sent} ending with id {targets[-1]}")


def check_mod_dict(mod_dict: Mapping[str, Mapping[str, torch.Tensor]], specs: Mapping[str, ModalitySpec]) -> None:
    """Every invariant checkable without budgets (1, 5, 6, 8, 17 and the spec's roles) on a policy output."""
    for key, masked in mod_dict.items():
        spec = specs[key]
        check_encoding(key, spec, masked)
        check_roles(key, spec, masked)
        check_disjoint(key, masked)
        if spec.kind.is_image:
            check_grid_attention(key, masked)
        elif spec.kind is ModalityKind.TEXT_SEQUENCE:
            check_text_layout(key, masked)
            check_sentinels(key, masked)
        else:
            check_text_layout(key, {**masked, "tensor": torch.zeros(masked["input_mask"].shape, dtype=torch.long)})


# ---------------------------------------------------------------- invariants that need the budgets


def check_grid_budgets(key: str, spec: ModalitySpec, masked: Mapping[str, torch.Tensor], b_in: np.ndarray,
                       b_tgt: np.ndarray) -> None:
    """2: a grid modality has exactly b_in inputs and b_tgt targets, and b_in + b_tgt <= N."""
    n_in = (~masked["input_mask"]).sum(dim=1).numpy()
    n_tgt = (~masked["target_mask"]).sum(dim=1).numpy()
    for b in np.flatnonzero((n_in != b_in) | (n_tgt != b_tgt) | (b_in + b_tgt > spec.max_tokens)):
        raise _fail(2, key, int(b), f"expected {int(b_in[b])} inputs and {int(b_tgt[b])} targets (sum <= "
                                    f"{spec.max_tokens}), found {int(n_in[b])} and {int(n_tgt[b])}")


def check_budget_ranges(masked: MaskedBatch, specs: Mapping[str, ModalitySpec]) -> None:
    """4: budgets are integers in [0, cap]: cap = max_tokens for inputs, max_tokens − b_in (grids) for targets."""
    for key, b_in in masked.input_budgets.items():
        spec, b_tgt = specs[key], masked.target_budgets[key]
        if not (np.issubdtype(b_in.dtype, np.integer) and np.issubdtype(b_tgt.dtype, np.integer)):
            raise _fail(4, key, None, f"budgets must be integers, found {b_in.dtype} / {b_tgt.dtype}")
        target_cap = spec.max_tokens - b_in if spec.kind.is_image else np.full_like(b_in, spec.max_tokens)
        for b in np.flatnonzero((b_in < 0) | (b_in > spec.max_tokens) | (b_tgt < 0) | (b_tgt > target_cap)):
            raise _fail(4, key, int(b), f"budgets must be in [0, {spec.max_tokens}] and [0, {int(target_cap[b])}], "
                                        f"found {int(b_in[b])} and {int(b_tgt[b])}")


def check_budget_totals(masked: MaskedBatch, specs: Mapping[str, ModalitySpec]) -> None:
    """3: Σ budgets <= the sampled total, with equality when no cap bound and no budget was discarded."""
    keys = list(masked.input_budgets)
    for side, budgets, totals, allowed in (
        ("input", masked.input_budgets, masked.input_totals, lambda s: s.can_be_input),
        ("target", masked.target_budgets, masked.target_totals, lambda s: s.can_be_target),
    ):
        if totals is None:
            continue
        b = np.stack([budgets[k] for k in keys], axis=1)
        caps = np.stack([_cap(specs[k], side, masked.input_budgets[k]) for k in keys], axis=1)
        exact = (b < caps).all(axis=1) & all(allowed(specs[k]) for k in keys)
        for s in np.flatnonzero((b.sum(axis=1) > totals) | (exact & (b.sum(axis=1) != totals))):
            raise InvariantViolation(f"invariant 3: modalities {keys}, sample {int(s)}: {side} budgets "
                                     f"{b[s].tolist()} sum to {int(b[s].sum())}, expected "
                                     f"{'exactly ' if exact[s] else '<= '}{int(totals[s])}")


def _cap(spec: ModalitySpec, side: str, b_in: np.ndarray) -> np.ndarray:
    if side == "target" and spec.kind.is_image:
        return spec.max_tokens - b_in
    return np.full_like(b_in, spec.max_tokens)


def check_sequence_budgets(key: str, masked: Mapping[str, torch.Tensor], b_in: np.ndarray,
                           b_tgt: np.ndarray) -> None:
    """11 (and 6's L_in <= b_in): len(input) <= b_in and len(target) <= b_tgt."""
    n_in = (~masked["input_mask"]).sum(dim=1).numpy()
    n_tgt = (~masked["target_mask"]).sum(dim=1).numpy()
    for b in np.flatnonzero((n_in > b_in) | (n_tgt > b_tgt)):
        raise _fail(11, key, int(b), f"input/target lengths must be <= {int(b_in[b])}/{int(b_tgt[b])}, found "
                                     f"{int(n_in[b])}/{int(n_tgt[b])}")


def check_reconstruction(key: str, masked: Mapping[str, torch.Tensor], sequences: PackedSequences,
                         truncated: np.ndarray) -> None:
    """7 and 9: input ∪ target gives back the sequence + [EOS] (an empty input counts as ``[S_1]``)."""
    for b in np.flatnonzero(~truncated):
        inputs, targets = sequence_input_target(masked, int(b))
        merged = merge_span_masking(inputs or [sentinel_id(1)], targets)
        if merged != sequences.sample(int(b)):
            raise _fail(7, key, int(b), f"merging input {inputs} and target {targets} gives {merged}, "
                                        f"expected {sequences.sample(int(b))}")


def check_empty_inputs(key: str, masked: Mapping[str, torch.Tensor], sequences: PackedSequences,
                       b_in: np.ndarray, b_tgt: np.ndarray) -> None:
    """9: with b_in = 0 the input is empty and the target is ``[S_1] seq… [EOS] [S_2]`` cut to b_tgt
    (just ``[S_1]`` for a sequence that truncation left empty: no run to mask)."""
    for b in np.flatnonzero(b_in == 0):
        inputs, targets = sequence_input_target(masked, int(b))
        sequence = sequences.sample(int(b))
        whole = [sentinel_id(1), *sequence, sentinel_id(2)] if sequence else [sentinel_id(1)]
        if inputs or targets != whole[: int(b_tgt[b])]:
            raise _fail(9, key, int(b), f"expected input [] and target {whole[: int(b_tgt[b])]}, "
                                        f"found {inputs} and {targets}")


def check_masked_batch(masked: MaskedBatch, specs: Mapping[str, ModalitySpec]) -> None:
    """All invariants 1–9, 11 and 17 on a `MaskedBatch` (10 needs a keep-all setup; see `check_keep_all`).

    3 and 4 concern Dirichlet-sampled budgets and apply when the batch records its totals.
    """
    check_mod_dict(masked.modalities, specs)
    if masked.input_totals is not None:
        check_budget_ranges(masked, specs)
        check_budget_totals(masked, specs)
    for key, out in masked.modalities.items():
        spec, b_in, b_tgt = specs[key], masked.input_budgets[key], masked.target_budgets[key]
        if spec.kind.is_image:
            check_grid_budgets(key, spec, out, b_in, b_tgt)
            continue
        check_sequence_budgets(key, out, b_in, b_tgt)
        if spec.kind is ModalityKind.TEXT_SEQUENCE:
            truncated = masked.target_truncated[key]
            check_text_layout(key, out, masked.target_offsets[key])
            check_sentinels(key, out, truncated)
            check_reconstruction(key, out, masked.sequences[key], truncated)
            check_empty_inputs(key, out, masked.sequences[key], b_in, b_tgt)


def check_keep_all(key: str, masked: Mapping[str, torch.Tensor], sequences: PackedSequences, b_in: np.ndarray,
                   b_tgt: np.ndarray) -> None:
    """10: with keep = 1 and b_in >= the sequence length, the input is the whole sequence and the target
    at most ``[S_1]`` (no valid decoder token after the shift)."""
    for b in np.flatnonzero((b_in >= sequences.lengths) & (b_in > 0)):
        inputs, targets = sequence_input_target(masked, int(b))
        expected_target = [sentinel_id(1)][: int(b_tgt[b])]
        if inputs != sequences.sample(int(b)) or targets != expected_target:
            raise _fail(10, key, int(b), f"expected input {sequences.sample(int(b))} and target {expected_target}, "
                                         f"found {inputs} and {targets}")
