"""Autoregressive step for sequence targets (spec §5.6): decode after the placeholder's start token, merge."""

from __future__ import annotations

import torch
from torch import nn

from mm4m.core.generation.guided_passes import GuidedDecoder
from mm4m.core.generation.sample_dict import Entry, SampleDict
from mm4m.core.generation.sampling import sample_tokens
from mm4m.core.generation.schedule import ScheduleStep
from mm4m.core.generation.span_merge import merge_spans
from mm4m.core.special_tokens import PAD_ID


def target_slots(key: str, entry: Entry) -> torch.Tensor:
    """Bool (B, L) of the placeholder's target positions; their count must agree across the batch."""
    slots = ~entry["target_mask"]
    counts = slots.sum(dim=1)
    if (counts != counts[0]).any() or int(counts[0]) < 1:
        raise ValueError(f"target '{key}': every sample needs the same number (>= 1) of target positions, "
                         f"found {counts.tolist()}")
    return slots


def decode_sequence(model: nn.Module, sample: SampleDict, step: ScheduleStep, *, top_k: int | float, top_p: float,
                    generator: torch.Generator | None, use_cache: bool = True) -> torch.Tensor:
    """Token ids (B, 1 + generated) starting with the placeholder's first target id; stops once every row
    holds the placeholder's last target id (its end token) or after min(max_tokens, target positions) tokens.
    ``use_cache`` feeds one new token per step through a key/value cache instead of the whole prefix."""
    key = step.target_domain
    entry, layer = sample[key], model.decoder_embeddings[key]
    slots = target_slots(key, entry)
    batch, length = slots.shape[0], int(slots[0].sum())
    _, emb = layer(entry["tensor"], entry["target_mask"])
    positions = emb[slots].reshape(batch, length, -1)
    placeholder = entry["tensor"][slots].reshape(batch, length).long()
    end = placeholder[:, -1]
    steps = min(model.specs[key].max_tokens, length)
    ids = placeholder.new_empty(batch, 1 + steps)
    ids[:, 0] = placeholder[:, 0]
    finished = torch.zeros(batch, dtype=torch.bool, device=ids.device)
    decoder = GuidedDecoder(model, sample, step, cache_capacity=steps)
    for index in range(steps):
        if use_cache:
            queries = layer.token_emb(ids[:, index:index + 1]) + positions[:, index:index + 1]
            logits = decoder.logits(
                lambda runner: layer.to_logits(runner.run(queries, causal=True, keep_cache=True)[:, -1]))
        else:
            queries = layer.token_emb(ids[:, :index + 1]) + positions[:, :index + 1]
            logits = decoder.logits(lambda runner: layer.to_logits(runner.run(queries, causal=True)[:, -1]))
        next_ids, _ = sample_tokens(logits, step.temperature, top_k=top_k, top_p=top_p, generator=generator)
        ids[:, index + 1] = next_ids
        finished |= next_ids == end
        if finished.all():
            return ids[:, :index + 2]
    return ids


def merged_entry(entry: Entry, prediction: torch.Tensor) -> Entry:
    """The visible input ids of each row with their sentinels replaced by the predicted spans, as a fully
    visible input right-padded with [PAD] (padding hidden)."""
    rows = [merge_spans(ids[~hidden].tolist(), predicted.tolist())
            for ids, hidden, predicted in zip(entry["tensor"], entry["input_mask"], prediction)]
    length = max(1, max(len(row) for row in rows))
    device = entry["tensor"].device
    tensor = torch.full((len(rows), length), PAD_ID, dtype=entry["tensor"].dtype, device=device)
    input_mask = torch.ones(len(rows), length, dtype=torch.bool, device=device)
    for index, row in enumerate(rows):
        tensor[index, :len(row)] = torch.tensor(row, dtype=tensor.dtype)
        input_mask[index, :len(row)] = False
    return {"tensor": tensor, "input_mask": input_mask, "target_mask": torch.ones_like(input_mask),
            "decoder_attention_mask": torch.zeros(input_mask.shape, dtype=torch.long, device=device)}


def autoregressive_step(model: nn.Module, sample: SampleDict, step: ScheduleStep, *, top_k: int | float,
                        top_p: float, generator: torch.Generator | None, use_cache: bool = True) -> SampleDict:
    """Decode the target and replace its entry by the merged, fully visible sequence."""
    prediction = decode_sequence(model, sample, step, top_k=top_k, top_p=top_p, generator=generator,
                                 use_cache=use_cache)
    return {**sample, step.target_domain: merged_entry(sample[step.target_domain], prediction)}
