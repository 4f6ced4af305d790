"""The attention paths on 4M's masks: median time, TFLOP/s and the share of tiles the fused kernels skip.

Workloads: encoder self-attention (padding keys only) and decoder self-attention with 7 and 21 modality
runs (image blocks bidirectional, sequences causal, padding keeping its modality id as after the model's
valid-first gather), at N = 256 and 512. Paths, timed in the same run: the fused Triton kernels (tiles 16,
32, 64), SDPA with the dense mask (the CPU path), SDPA without a mask (no rules: a speed bound, not the
same result), FlexAttention (block 128 and the best of 32 / 64 / 128) and the naive matmul–softmax path.
Every time includes building that path's mask or plan from the rule vectors, as `attention` does per call;
forward times run without autograd (inference), forward+backward times with it.

TFLOP/s: "dense" counts 4·M·N·Dh per head forward (×3.5 forward+backward), "useful" only visible pairs.
Without CUDA, the Triton rows are skipped (the interpreter is no timing) and FlexAttention runs eagerly,
forward only; the tile counts need no GPU.

    python benchmarks/attention.py [--device cuda] [--batch 8] [--heads 12] [--head-dim 64] [--repeats 20]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from mm4m.core.model.attention import sdpa_attention, visibility_mask
from mm4m.core.model.kernels.flex import flex_attention_path, flex_available
from mm4m.core.model.kernels.support import triton_installed
from mm4m.core.model.kernels.tiles import TILE_SKIPPED, plan_tiles, rule_vectors

Rules = dict[str, torch.Tensor]
AttentionPath = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, Rules], torch.Tensor]
SEQUENCE_LENGTHS = (256, 512)
FUSED_TILES = (16, 32, 64)
FLEX_TILES = (32, 64, 128)


@dataclass(frozen=True)
class Workload:
    """One mask family at one length: its rule vectors (B rows) and name."""

    name: str
    tokens: int
    rules: Rules


def encoder_workload(batch: int, tokens: int, g: torch.Generator) -> Workload:
    """Encoder self-attention: each row keeps a random 60–100 % of its slots valid, padding last."""
    valid_counts = torch.randint(int(0.6 * tokens), tokens + 1, (batch, 1), generator=g)
    return Workload("encoder", tokens, {"key_valid": torch.arange(tokens)[None] < valid_counts})


def decoder_row(tokens: int, num_modalities: int, g: torch.Generator) -> tuple[list[int], list[int]]:
    """(segment ids, attention codes) of one row: ~85 % targets split over the modalities, then padding."""
    weights = torch.rand(num_modalities, generator=g) + 0.2
    lengths = (weights / weights.sum() * 0.85 * tokens).long().tolist()
    segments, codes = [], []
    for modality, length in enumerate(lengths):
        segments += [modality] * length
        causal = modality % 3 == 2  # every third modality is a sequence
        codes += [1] * length if causal else ([length] + [0] * (length - 1) if length else [])
    padding = tokens - len(segments)
    segments += [p * num_modalities // padding for p in range(padding)]
    codes += [0] * padding
    return segments, codes


def decoder_workload(batch: int, tokens: int, num_modalities: int, g: torch.Generator) -> Workload:
    """Decoder self-attention rules of §2.7 with per-modality segments and cumulative-count bounds."""
    rows = [decoder_row(tokens, num_modalities, g) for _ in range(batch)]
    segments = torch.tensor([r[0] for r in rows])
    bounds = torch.cumsum(torch.tensor([r[1] for r in rows]), dim=1)
    return Workload(f"decoder, {num_modalities} modalities", tokens,
                    {"q_segments": segments, "k_segments": segments, "key_bound": bounds})


def dense_mask(workload: Workload) -> torch.Tensor:
    """(B, 1, N, N) boolean visibility (for the naive path and the useful-work count)."""
    n = workload.tokens
    mask = visibility_mask(n, n, **workload.rules)
    return mask.expand(next(iter(workload.rules.values())).shape[0], 1, n, n)


def naive_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, rules: Rules) -> torch.Tensor:
    """The reference's way: scores, masked_fill(−max), softmax, weighted sum."""
    scores = (q @ k.transpose(-2, -1)) * q.shape[-1] ** -0.5
    mask = visibility_mask(q.shape[-2], k.shape[-2], **rules)
    return scores.masked_fill(~mask, -torch.finfo(scores.dtype).max).softmax(-1) @ v


def paths(device: torch.device) -> tuple[dict[str, AttentionPath], list[str]]:
    """The paths to time on this device, and notes on the ones left out."""
    found: dict[str, AttentionPath] = {}
    notes = []
    if device.type == "cuda" and triton_installed():
        from mm4m.core.model.kernels.function import fused_attention

        for tile in FUSED_TILES:
            found[f"fused Triton, tile {tile}"] = (
                lambda q, k, v, r, t=tile: fused_attention(q, k, v, block_m=t, block_n=t, **r))
    else:
        notes.append("fused Triton rows skipped: they need CUDA and triton (the CPU interpreter is no timing)")
    found["SDPA, dense mask"] = lambda q, k, v, r: sdpa_attention(q, k, v, **r)
    found["SDPA, no mask"] = lambda q, k, v, r: F.scaled_dot_product_attention(q, k, v)
    if flex_available():
        for tile in FLEX_TILES:
            found[f"FlexAttention, block {tile}"] = (
                lambda q, k, v, r, t=tile: flex_attention_path(q, k, v, block_size=t, **r))
        if device.type != "cuda":
            notes.append("FlexAttention runs eagerly on the CPU (no fused kernel) and has no CPU backward")
    else:
        notes.append(f"FlexAttention rows skipped: torch {torch.__version__} lacks flex_attention with AuxRequest")
    found["naive matmul-softmax"] = naive_attention
    return found, notes


def median_seconds(fn: Callable[[], object], device: torch.device, repeats: int) -> float:
    """Median wall time of ``fn`` after one warm-up call, synchronising CUDA around each call."""
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_path(path: AttentionPath, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, rules: Rules,
              device: torch.device, repeats: int) -> tuple[float, float | None]:
    """(forward seconds without autograd, forward+backward seconds or None where the path has no backward)."""
    with torch.no_grad():
        forward = median_seconds(lambda: path(q, k, v, rules), device, repeats)
    grad = torch.randn_like(q)
    try:
        both = median_seconds(lambda: torch.autograd.grad(path(q, k, v, rules), (q, k, v), grad), device, repeats)
    except NotImplementedError:
        both = None
    return forward, both


def tile_report(workload: Workload, mask: torch.Tensor) -> str:
    """Skipped / masked share of tile pairs per fused tile size, next to the minimum from the dense mask."""
    n = workload.tokens
    rules = rule_vectors(mask.shape[0], n, n, device=torch.device("cpu"), **{
        name: workload.rules.get(name) for name in ("q_segments", "k_segments", "key_bound", "key_valid")})
    parts = []
    for tile in FUSED_TILES:
        plan = plan_tiles(rules, tile, tile)
        tiles = n // tile
        per_tile = mask[:, 0].view(-1, tiles, tile, tiles, tile).any(dim=4).any(dim=2)
        minimum = 1 - per_tile.float().mean().item()
        parts.append(f"tile {tile}: skipped {plan.skipped_fraction:.1%} (dense-mask count {minimum:.1%}), "
                     f"masked {plan.masked_fraction:.1%}")
        assert (plan.tile_kind != TILE_SKIPPED).sum() == per_tile.sum(), "plan and dense mask disagree"
    return "; ".join(parts)


def run_workload(workload: Workload, args: argparse.Namespace, device: torch.device,
                 timed: dict[str, AttentionPath]) -> None:
    """Print the tile counts and one row per path for this workload."""
    mask = dense_mask(workload)
    visible_share = mask.float().mean().item()
    n, batch, heads, dim = workload.tokens, mask.shape[0], args.heads, args.head_dim
    print(f"\n## {workload.name}, N = {n}: visible pairs {visible_share:.1%}")
    print(f"tiles: {tile_report(workload, mask)}")
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(batch, heads, n, dim, generator=g).to(device, args.dtype).requires_grad_()
               for _ in range(3))
    rules = {name: rule.to(device) for name, rule in workload.rules.items()}
    dense_flops = 4 * batch * heads * n * n * dim
    print(f"{'path':28} {'fwd ms':>9} {'fwd TF/s dense':>15} {'useful':>7} {'fwd+bwd ms':>11} "
          f"{'TF/s dense':>11} {'useful':>7}")
    for name, path in timed.items():
        forward, both = time_path(path, q, k, v, rules, device, args.repeats)
        row = f"{name:28} {forward * 1e3:9.2f} {dense_flops / forward / 1e12:15.4f} " \
              f"{visible_share * dense_flops / forward / 1e12:7.4f}"
        if both is None:
            row += f" {'n/a':>11} {'':>11} {'':>7}"
        else:
            flops = 3.5 * dense_flops
            row += f" {both * 1e3:11.2f} {flops / both / 1e12:11.4f} {visible_share * flops / both / 1e12:7.4f}"
        print(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=None, help="default 8 on CUDA, 2 on the CPU")
    parser.add_argument("--heads", type=int, default=None, help="default 12 on CUDA, 4 on the CPU")
    parser.add_argument("--head-dim", type=int, default=64, choices=(32, 64, 128))
    parser.add_argument("--dtype", default="bfloat16", choices=("float32", "float16", "bfloat16"))
    parser.add_argument("--repeats", type=int, default=None, help="default 20 on CUDA, 3 on the CPU")
    args = parser.parse_args()
    device = torch.device(args.device)
    on_cuda = device.type == "cuda"
    args.batch = args.batch or (8 if on_cuda else 2)
    args.heads = args.heads or (12 if on_cuda else 4)
    args.repeats = args.repeats or (20 if on_cuda else 3)
    args.dtype = getattr(torch, args.dtype) if on_cuda else torch.float32
    timed, notes = paths(device)
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, batch {args.batch}, "
          f"heads {args.heads}, head dim {args.head_dim}, {args.dtype}, median of {args.repeats}")
    for note in notes:
        print(f"note: {note}")
    g = torch.Generator().manual_seed(0)
    for tokens in SEQUENCE_LENGTHS:
        for workload in (encoder_workload(args.batch, tokens, g), decoder_workload(args.batch, tokens, 7, g),
                         decoder_workload(args.batch, tokens, 21, g)):
            run_workload(workload, args, device, timed)


if __name__ == "__main__":
    main()
