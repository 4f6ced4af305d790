"""MaskGIT and ROAR steps for grid targets (spec §5.4–5.5): predict masked positions, commit some as inputs."""

from __future__ import annotations

import torch
from torch import nn

from mm4m.core.generation.guided_passes import GuidedDecoder
from mm4m.core.generation.model_passes import grid_logits
from mm4m.core.generation.sample_dict import Entry, SampleDict
from mm4m.core.generation.sampling import sample_tokens
from mm4m.core.generation.schedule import ScheduleStep
from mm4m.core.spec import DecodingStrategy


def pending_positions(key: str, entry: Entry) -> torch.Tensor:
    """Positions (B, M) still to generate (target_mask False), in increasing order; M must agree across the batch."""
    pending = ~entry["target_mask"]
    counts = pending.sum(dim=1)
    if (counts != counts[0]).any():
        raise ValueError(f"target '{key}': every sample must have the same number of positions left to generate, "
                         f"found {counts.tolist()}")
    return pending.nonzero()[:, 1].reshape(pending.shape[0], int(counts[0]))


def random_positions(positions: torch.Tensor, count: int, generator: torch.Generator | None) -> torch.Tensor:
    """``count`` of each row's ``positions`` in a random order."""
    scores = torch.rand(positions.shape, generator=generator, device=positions.device)
    return torch.gather(positions, 1, scores.argsort(dim=1)[:, :count])


def commit(entry: Entry, positions: torch.Tensor, ids: torch.Tensor) -> Entry:
    """Write ``ids`` at ``positions`` and turn them into visible inputs (input_mask False, target_mask True)."""
    tensor = entry["tensor"].flatten(1).scatter(1, positions, ids.to(entry["tensor"].dtype))
    return {**entry, "tensor": tensor.reshape(entry["tensor"].shape),
            "input_mask": entry["input_mask"].scatter(1, positions, False),
            "target_mask": entry["target_mask"].scatter(1, positions, True)}


def grid_step(model: nn.Module, sample: SampleDict, step: ScheduleStep, *, top_k: int | float, top_p: float,
              generator: torch.Generator | None) -> SampleDict:
    """MaskGIT: query every pending position, keep the ``num_tokens`` most probable draws. ROAR: query only
    ``num_tokens`` random pending positions and keep all of them."""
    key = step.target_domain
    entry = sample[key]
    positions = pending_positions(key, entry)
    if positions.shape[1] == 0:
        raise ValueError(f"target '{key}': no position is left to generate (the target is complete)")
    count = min(step.num_tokens, positions.shape[1])
    if step.scheme is DecodingStrategy.ROAR:
        positions = random_positions(positions, count, generator)
    decoder = GuidedDecoder(model, sample, step)
    logits = decoder.logits(lambda runner: grid_logits(model, runner, key, entry, positions))
    ids, probs = sample_tokens(logits, step.temperature, top_k=top_k, top_p=top_p, generator=generator)
    if step.scheme is DecodingStrategy.MASKGIT:
        best = torch.topk(probs, count, dim=1).indices
        positions, ids = torch.gather(positions, 1, best), torch.gather(ids, 1, best)
    return {**sample, key: commit(entry, positions, ids)}
