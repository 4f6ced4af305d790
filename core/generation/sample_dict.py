"""Sample dicts (spec §5.1): the reference's ``mod_dict`` entries for full inputs, empty targets and prompts.

Every entry holds ``tensor``, ``input_mask`` and ``target_mask`` (bool, True = excluded) and
``decoder_attention_mask`` (int), batch-first, in the layouts `FourM` reads.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from mm4m.core.spec import ModalityKind, ModalitySpec
from mm4m.core.special_tokens import EOS_ID, PAD_ID, sentinel_id

Entry = dict[str, torch.Tensor]
SampleDict = dict[str, Entry]


def _entry(tensor: torch.Tensor, input_mask: torch.Tensor, target_mask: torch.Tensor) -> Entry:
    tokens = input_mask.shape
    return {"tensor": tensor, "input_mask": input_mask, "target_mask": target_mask,
            "decoder_attention_mask": torch.zeros(tokens, dtype=torch.long, device=input_mask.device)}


def full_input(spec: ModalitySpec, tensor: torch.Tensor, *, valid: torch.Tensor | None = None) -> Entry:
    """A fully visible condition: grids all visible; sequences visible up to and including their first [EOS];
    sequence embeddings visible where ``valid`` (B, L) is True."""
    kind = spec.kind
    if kind.is_image:
        tokens = spec.max_tokens
        hidden = torch.zeros(tensor.shape[0], tokens, dtype=torch.bool, device=tensor.device)
        return _entry(tensor, hidden, ~hidden)
    if kind is ModalityKind.SEQUENCE_EMBEDDING:
        if valid is None:
            raise ValueError(f"full input '{spec.key}': sequence embeddings need 'valid' (B, L), found None")
        return _entry(tensor, ~valid, torch.ones_like(valid))
    is_eos = tensor == EOS_ID
    missing = (~is_eos.any(dim=1)).nonzero().flatten().tolist()
    if missing:
        raise ValueError(f"full input '{spec.key}': every row must contain [EOS] ({EOS_ID}); rows {missing} do not")
    after_eos = (is_eos.long().cumsum(dim=1) - is_eos.long()) > 0
    return _entry(tensor, after_eos, torch.ones_like(after_eos))


def empty_target(spec: ModalitySpec, batch_size: int, *, num_tokens: int | None = None,
                 device: torch.device | str = "cpu") -> Entry:
    """A target to generate: a grid of zeros all to predict, or ``[S_1] [S_1] 0 … 0 [S_2]`` with only the
    first token visible (the sequence's decoder starts from ``[S_1]`` and stops at ``[S_2]``)."""
    if spec.kind.is_image:
        tokens = spec.max_tokens
        hidden = torch.ones(batch_size, tokens, dtype=torch.bool, device=device)
        return _entry(torch.zeros(batch_size, tokens, dtype=torch.long, device=device), hidden, ~hidden)
    if spec.kind is ModalityKind.SEQUENCE_EMBEDDING:
        raise ValueError(f"empty target '{spec.key}': sequence embeddings cannot be generated")
    length = num_tokens if num_tokens is not None else spec.max_tokens
    if length < 2:
        raise ValueError(f"empty target '{spec.key}': a sequence placeholder needs >= 2 tokens, found {length}")
    tensor = torch.full((batch_size, length), PAD_ID, dtype=torch.long, device=device)
    tensor[:, :2] = sentinel_id(1)
    tensor[:, -1] = sentinel_id(2)
    input_mask = torch.ones(batch_size, length, dtype=torch.bool, device=device)
    input_mask[:, 0] = False
    return _entry(tensor, input_mask, ~input_mask)


def prompted_target(prompt: torch.Tensor, num_tokens: int) -> Entry:
    """Custom text: the prompt ids (B, P) are visible (write ``[S_1]`` where text should go) and a target
    ``[S_1] [PAD] … [EOS]`` of ``num_tokens`` follows it."""
    if num_tokens < 2:
        raise ValueError(f"prompted target: the target needs >= 2 tokens, found {num_tokens}")
    batch, length = prompt.shape
    target = torch.full((batch, num_tokens), PAD_ID, dtype=torch.long, device=prompt.device)
    target[:, 0], target[:, -1] = sentinel_id(1), EOS_ID
    is_prompt = torch.arange(length + num_tokens, device=prompt.device) < length
    input_mask = (~is_prompt).expand(batch, -1).clone()
    return _entry(torch.cat([prompt.long(), target], dim=1), input_mask, ~input_mask)


def without_conditions(sample: Mapping[str, Entry], specs: Mapping[str, ModalitySpec],
                       domains: tuple[str, ...] | list[str]) -> SampleDict:
    """A copy where each of ``domains`` carries no information (spec §5.7): grids hidden, sequences reduced to
    the empty ``[S_1] … [S_2]`` placeholder, sequence embeddings zeros with only position 0 visible."""
    out = dict(sample)
    for key in domains:
        if key not in sample:
            raise KeyError(f"guidance condition '{key}' is not in the sample (found {sorted(sample)})")
        entry, spec = sample[key], specs[key]
        tensor = entry["tensor"]
        if spec.kind.is_image:
            hidden = torch.ones_like(entry["input_mask"])
            out[key] = _entry(tensor, hidden, ~hidden)
        elif spec.kind is ModalityKind.SEQUENCE_EMBEDDING:
            hidden = torch.ones_like(entry["input_mask"])
            hidden[:, 0] = False
            out[key] = _entry(torch.zeros_like(tensor), hidden, torch.ones_like(hidden))
        else:
            out[key] = empty_target(spec, tensor.shape[0], num_tokens=tensor.shape[1], device=tensor.device)
    return out


def initial_sample(specs: Mapping[str, ModalitySpec], conditions: Mapping[str, torch.Tensor], targets: list[str], *,
                   sequence_tokens: Mapping[str, int] | None = None) -> SampleDict:
    """A sample dict with each condition as a full input and each target empty (in that order);
    ``sequence_tokens`` sets a sequence target's placeholder length (default: its spec's ``max_tokens``)."""
    if not conditions:
        raise ValueError("initial sample: expected at least one condition tensor to take the batch size from")
    sample = {key: full_input(specs[key], tensor) for key, tensor in conditions.items()}
    first = next(iter(conditions.values()))
    lengths = sequence_tokens or {}
    for key in targets:
        sample[key] = empty_target(specs[key], first.shape[0], num_tokens=lengths.get(key), device=first.device)
    return sample
