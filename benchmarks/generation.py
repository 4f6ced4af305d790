"""Greedy caption decoding with and without the decoder key/value cache, on tiny- and base-width FourM models.

Decodes 64 caption tokens for each of a batch of fully visible tok_rgb@224 conditions (randomly initialised
weights, float32, no early stop) and prints the median wall time of each mode and their ratio, per batch size
(default 1 and 8: one image, and captioning a batch of images). Three modes: ``cached``
(self-attention K/V cache, cross-attention K/V once), ``recomputed`` (whole prefix every step, cross-attention
K/V once) and ``model forward`` (the model's full decoder pass over the prefix every step, as the reference
does). Goal: cached >= 5x faster than the model forward.
Usage: python benchmarks/generation.py [--runs N] [--sizes tiny base] [--batches 1 8] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from mm4m.core.generation.decoder_runner import DecoderRunner, EncodedContext
from mm4m.core.generation.model_passes import encoder_budget
from mm4m.core.generation.sample_dict import empty_target, full_input
from mm4m.core.model.config import named_config
from mm4m.core.model.fourm import FourM
from mm4m.core.model.tokens import TokenSet

NEW_TOKENS = 64
KEY = "caption"


def build_model(size: str, device: str) -> FourM:
    """A random ``fm_<size>`` swiglu model with a tok_rgb@224 input and caption input/output."""
    torch.manual_seed(0)
    config = named_config(size, "swiglu_nobias", domains_in=["tok_rgb@224", KEY], domains_out=[KEY])
    return FourM(config).to(device).eval()


def build_sample(model: FourM, batch: int, device: str) -> dict:
    """``batch`` random tok_rgb@224 conditions and caption placeholders."""
    rgb = model.specs["tok_rgb@224"]
    condition = torch.randint(0, rgb.vocab_size, (batch, rgb.max_tokens), device=device,
                              generator=torch.Generator(device).manual_seed(batch))
    return {"tok_rgb@224": full_input(rgb, condition),
            KEY: empty_target(model.specs[KEY], batch, num_tokens=NEW_TOKENS + 1, device=device)}


def decode(model: FourM, sample: dict, mode: str) -> torch.Tensor:
    """Greedy ids of ``NEW_TOKENS`` caption tokens (no stop token) in the given mode; every mode encodes once
    and applies the vocabulary head to the last position only."""
    layer = model.decoder_embeddings[KEY]
    entry = sample[KEY]
    _, emb = layer(entry["tensor"], entry["target_mask"])
    batch = entry["tensor"].shape[0]
    positions = emb[~entry["target_mask"]].reshape(batch, NEW_TOKENS, -1)
    state = model.forward_encoder(sample, encoder_budget(model, sample))
    if mode != "model forward":
        runner = DecoderRunner(model, EncodedContext(state.context, state.context_valid), cache_capacity=NEW_TOKENS)
    ids = entry["tensor"].new_empty(batch, 1 + NEW_TOKENS)
    ids[:, 0] = entry["tensor"][:, 1]
    for index in range(NEW_TOKENS):
        if mode == "cached":
            y = runner.run(layer.token_emb(ids[:, index:index + 1]) + positions[:, index:index + 1], causal=True,
                           keep_cache=True)
        elif mode == "recomputed":
            y = runner.run(layer.token_emb(ids[:, :index + 1]) + positions[:, :index + 1], causal=True)
        else:
            prefix = causal_queries(model, layer.token_emb(ids[:, :index + 1]), positions[:, :index + 1])
            y = model.forward_decoder(prefix, state)
        ids[:, index + 1] = layer.to_logits(y[:, -1]).argmax(-1)
    return ids


def causal_queries(model: FourM, x: torch.Tensor, emb: torch.Tensor) -> TokenSet:
    """The whole prefix as the model's decoder tokens (attention code 1 per token: causal)."""
    b, n, _ = x.shape
    return TokenSet(x=x, emb=emb, mask=torch.zeros(b, n, dtype=torch.bool, device=x.device),
                    mod_ids=torch.full((b, n), model.specs[KEY].modality_id, device=x.device),
                    codes=torch.ones(b, n, dtype=torch.long, device=x.device))


def median_seconds(model: FourM, sample: dict, mode: str, runs: int, device: str) -> tuple[float, torch.Tensor]:
    """Median wall time of `decode` over ``runs`` runs after one warm-up, and the ids it produced."""
    with torch.no_grad():
        ids = decode(model, sample, mode)
        times = []
        for _ in range(runs):
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            decode(model, sample, mode)
            if device == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
    return statistics.median(times), ids


def head_seconds(model: FourM, batch: int, runs: int, device: str) -> float:
    """Median time of the ``NEW_TOKENS`` vocabulary projections of ``batch`` rows every mode needs (fixed cost)."""
    head = model.decoder_embeddings[KEY].to_logits
    row = torch.zeros(batch, model.config.dim, device=device)
    times = []
    with torch.no_grad():
        for _ in range(runs + 1):
            start = time.perf_counter()
            for _ in range(NEW_TOKENS):
                head(row)
            if device == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", nargs="+", default=["tiny", "base"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    print(f"device {args.device}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"{NEW_TOKENS} greedy caption tokens, median of {args.runs}")
    for size in args.sizes:
        model = build_model(size, args.device)
        for batch in args.batches:
            sample = build_sample(model, batch, args.device)
            cached, cached_ids = median_seconds(model, sample, "cached", args.runs, args.device)
            recomputed, recomputed_ids = median_seconds(model, sample, "recomputed", args.runs, args.device)
            forward, forward_ids = median_seconds(model, sample, "model forward", args.runs, args.device)
            head = head_seconds(model, batch, args.runs, args.device)
            same = torch.equal(cached_ids, recomputed_ids) and torch.equal(cached_ids, forward_ids)
            print(f"fm_{size} (D={model.config.dim}, {model.config.encoder_depth}+{model.config.decoder_depth}), "
                  f"batch {batch}, same tokens in all modes: {same}")
            for name, seconds in (("cached", cached), ("recomputed", recomputed), ("model forward", forward)):
                print(f"  {name:14s} {seconds * 1000:9.1f} ms  {seconds / cached:5.1f}x   without the vocabulary "
                      f"head ({head * 1000:.0f} ms): {(seconds - head) / (cached - head):5.1f}x")
            print(f"  goal cached >= 5x faster than the model forward (the reference's way): "
                  f"{'met' if forward / cached >= 5 else 'NOT met'}")

if __name__ == "__main__":
    main()
