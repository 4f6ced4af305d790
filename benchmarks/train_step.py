"""Forward+backward time of FourM block stacks: mm4m's attention entry point vs the reference's dense path.

The reference builds a dense (B, N, N) mask and computes matmul → masked_fill(−max) → softmax → matmul
in every block; mm4m passes per-token vectors to `attention`, which dispatches to PyTorch SDPA.
Both paths run in this process on the same weights and inputs; the ratio is what matters.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/train_step.py
"""

from __future__ import annotations

import statistics
import time

import torch

import mm4m.core.model.blocks as blocks
from mm4m.core.model.attention import attention, visibility_mask
from mm4m.core.model.blocks import BlockOptions, DecoderBlock, EncoderBlock

BATCH, ENC_TOKENS, DEC_TOKENS, REPEATS = 4, 256, 256, 3
STACKS = {"tiny (D=384, 6e+6d)": (384, 6, 6), "base width (D=768, 2e+2d)": (768, 2, 2)}


def reference_attention(q, k, v, **rules):
    """The reference: dense mask, scores, masked_fill(−float32 max), softmax, weighted sum."""
    mask = visibility_mask(q.shape[-2], k.shape[-2], device=q.device, **rules)
    scores = (q @ k.transpose(-2, -1)) * q.shape[-1] ** -0.5
    if mask is not None:
        scores = scores.masked_fill(~mask, -torch.finfo(scores.dtype).max)
    return scores.softmax(-1) @ v


def batch_rules(g: torch.Generator):
    """Realistic rules: padded encoder keys; decoder = 1 image block of 196 + a causal sequence of 60."""
    enc_valid = torch.arange(ENC_TOKENS)[None] < torch.randint(200, ENC_TOKENS + 1, (BATCH, 1), generator=g)
    codes = torch.zeros(BATCH, DEC_TOKENS, dtype=torch.long)
    codes[:, 0], codes[:, 196:] = 196, 1
    segments = torch.where(torch.arange(DEC_TOKENS) < 196, 1, 2).expand(BATCH, -1)
    return enc_valid, torch.cumsum(codes, 1), segments


def step(encoder, decoder, x_enc, x_dec, rules) -> None:
    enc_valid, bound, segments = rules
    h = x_enc
    for block in encoder:
        h = block(h, key_valid=enc_valid)
    y = x_dec
    for block in decoder:
        y = block(y, h, segments=segments, key_bound=bound, context_valid=enc_valid)
    y.square().mean().backward()


def time_path(fn, *args) -> float:
    fn(*args)  # warm-up
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, batch {BATCH}, "
          f"{ENC_TOKENS} encoder + {DEC_TOKENS} decoder tokens, median of {REPEATS}")
    g = torch.Generator().manual_seed(0)
    rules = batch_rules(g)
    for name, (dim, enc_depth, dec_depth) in STACKS.items():
        opts = BlockOptions(dim=dim, num_heads=dim // 64, mlp_ratio=4.0, qkv_bias=False, proj_bias=False,
                            mlp_bias=False, norm_bias=False, gated_mlp=True, qk_norm=False, act=torch.nn.SiLU)
        encoder = torch.nn.ModuleList(EncoderBlock(opts) for _ in range(enc_depth))
        decoder = torch.nn.ModuleList(DecoderBlock(opts) for _ in range(dec_depth))
        x_enc = torch.randn(BATCH, ENC_TOKENS, dim, requires_grad=True)
        x_dec = torch.randn(BATCH, DEC_TOKENS, dim, requires_grad=True)
        results = {}
        for label, impl in (("reference dense path", reference_attention), ("mm4m attention", attention)):
            blocks.attention = impl
            results[label] = time_path(step, encoder, decoder, x_enc, x_dec, rules)
        blocks.attention = attention
        ref, ours = results["reference dense path"], results["mm4m attention"]
        print(f"{name}: reference {ref * 1e3:.0f} ms, mm4m {ours * 1e3:.0f} ms, speed-up ×{ref / ours:.2f}")


if __name__ == "__main__":
    main()
