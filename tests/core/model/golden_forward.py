"""Recomputes the statistics stored in the 4M golden forward fixtures (spec §8.1) from a FourM model.

The tests run it twice: on the float32 model (ours) and on its float64 copy (the truth the float32 bounds of
`mm4m.testing.numerics` are measured from); ``rows`` collects the logits the statistics came from.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load

GOLDEN = "fixtures/4m-golden"
MASK_FIELDS = ("tensor", "input_mask", "target_mask", "decoder_attention_mask")
SKETCH_COLUMNS = 8


def gunzip_to(src: Path, dst: Path) -> Path:
    """Decompress a ``.gz`` fixture once into ``dst``."""
    if not dst.exists():
        dst.write_bytes(gzip.decompress(src.read_bytes()))
    return dst


def manifest(golden: Path) -> dict:
    return json.loads((golden / "manifest.json").read_text())


def fixture_mod_dict(golden: Path, keys: set[str]) -> dict[str, dict[str, torch.Tensor]]:
    """The fixture batch as a ``mod_dict`` in ``modality_order``, limited to ``keys``."""
    batch = load(gzip.decompress((golden / "batch.safetensors.gz").read_bytes()))
    order = manifest(golden)["batch"]["modality_order"]
    return {k: {f: batch[f"{k}.{f}"] for f in MASK_FIELDS} for k in order if k in keys}


def sketch_matrix(vocab: int) -> torch.Tensor:
    """R[v, j] = float32(sin((v+1)(j+1)/2)), computed in float64."""
    v = torch.arange(1, vocab + 1, dtype=torch.float64)[:, None]
    j = torch.arange(1, SKETCH_COLUMNS + 1, dtype=torch.float64)[None, :]
    return torch.sin(v * j / 2).float()


@torch.no_grad()
def forward_stats(model, mod_dict, num_encoder_tokens: int, num_decoder_tokens: int, run: str,
                  rows_out: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """The fixture's tensors for one run (names ``<run>.<...>``), recomputed with ``model``.

    ``rows_out``, when given, receives each modality's logits under ``<run>.<key>``.
    """
    out: dict[str, torch.Tensor] = {}
    encoder = model.forward_encoder(mod_dict, num_encoder_tokens)
    queries = model.select_decoder_tokens(model.embed_decoder(mod_dict), num_decoder_tokens)
    y = model.forward_decoder(queries, encoder)
    valid = ~encoder.tokens.mask
    out[f"{run}.encoder_out_valid"] = encoder.output[valid]
    out[f"{run}.encoder_mod_id_valid"] = encoder.tokens.mod_ids[valid].int()
    keys = model.decoder_keys(mod_dict)
    logits = model.modality_logits(y, queries, keys)
    padded = queries.with_padding_ids()
    for key, rows in logits.items():
        rows_mask = padded.mod_ids == model.specs[key].modality_id
        targets = queries.target_ids[rows_mask]
        p = f"{run}.{key}"
        if rows_out is not None:
            rows_out[p] = rows
        out[f"{p}.decoder_out"] = y[rows_mask]
        out[f"{p}.target_ids"] = targets
        out[f"{p}.n_tokens"] = torch.tensor([targets.numel()])
        out[f"{p}.logsumexp"] = rows.logsumexp(-1)
        out[f"{p}.max_logit"] = rows.max(-1).values
        out[f"{p}.argmax"] = rows.argmax(-1)
        out[f"{p}.target_logprob"] = rows.gather(1, targets[:, None])[:, 0] - rows.logsumexp(-1)
        out[f"{p}.logits_sketch"] = rows @ sketch_matrix(rows.shape[-1]).to(rows.dtype)
        out[f"{p}.ce_mean"] = F.cross_entropy(rows, targets).reshape(1)
        if run == "full":
            out[f"{p}.logits_first2"] = rows[:2]
    for loss_type in ("mod", "token"):
        total, losses = model(mod_dict, num_encoder_tokens, num_decoder_tokens, loss_type=loss_type)
        out[f"{run}.loss_{loss_type}"] = total.reshape(1)
        for key, value in losses.items():
            out[f"{run}.loss_{loss_type}.{key}"] = value.reshape(1)
    for key, value in model(mod_dict, num_encoder_tokens, num_decoder_tokens, return_logits=True).items():
        out[f"{run}.return_logits_shape.{key}"] = torch.tensor(value.shape)
    return out
