"""The model calls generation makes: encode a sample's visible inputs, and decoder logits for grid positions."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from mm4m.core.generation.decoder_runner import DecoderRunner, EncodedContext
from mm4m.core.generation.sample_dict import Entry


def encoder_budget(model: nn.Module, sample: Mapping[str, Entry]) -> int:
    """Most visible input tokens of any sample in the batch (no truncation, spec §5.4)."""
    visible = [(~entry["input_mask"]).sum(dim=1) for key, entry in sample.items() if key in model.encoder_embeddings]
    return int(torch.stack(visible).sum(dim=0).max()) if visible else 0


def encode(model: nn.Module, sample: Mapping[str, Entry]) -> EncodedContext:
    """Encode every visible input token of ``sample``; a sample with none gives an empty context."""
    budget = encoder_budget(model, sample)
    if budget == 0 and not model.config.num_register_tokens:
        reference = model.mask_token
        batch = next(iter(sample.values()))["input_mask"].shape[0]
        return EncodedContext.empty(batch, model.config.dim, device=reference.device, dtype=reference.dtype)
    state = model.forward_encoder(sample, budget)
    return EncodedContext(state.context, state.context_valid)


def grid_queries(model: nn.Module, key: str, entry: Entry, positions: torch.Tensor) -> torch.Tensor:
    """Decoder inputs for grid ``positions`` (B, M): the mask token plus each position's pos+mod embedding."""
    emb, _ = model.decoder_embeddings[key](entry["tensor"])
    picked = torch.gather(emb, 1, positions.unsqueeze(-1).expand(-1, -1, emb.shape[-1]))
    return model.mask_token + picked


def grid_logits(model: nn.Module, runner: DecoderRunner, key: str, entry: Entry,
                positions: torch.Tensor) -> torch.Tensor:
    """Logits (B, M, V) of target ``key`` at ``positions``; the queries attend to each other bidirectionally
    (or causally if the model's config asks for a causal decoder)."""
    y = runner.run(grid_queries(model, key, entry, positions), causal=model.config.decoder_causal_mask)
    return model.decoder_embeddings[key].to_logits(y)
