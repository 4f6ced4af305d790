"""The Triton kernels (interpreter on the CPU) against the float64 reference: outputs and q/k/v gradients."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("triton")
from mm4m.core.model.kernels.function import fused_attention  # noqa: E402

_spec = importlib.util.spec_from_file_location("mm4m_kernel_reference", Path(__file__).with_name("reference.py"))
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)

TOLERANCE = {torch.float32: 2e-5, torch.float16: 2e-2, torch.bfloat16: 6e-2}


def full_rules(rules: dict[str, torch.Tensor], batch: int, m: int, n: int) -> tuple[torch.Tensor, ...]:
    """The rule vectors with absent rules filled in (everything visible), for the reference mask."""
    segq = rules.get("q_segments", torch.zeros(batch, m, dtype=torch.long))
    segk = rules.get("k_segments", torch.zeros(batch, n, dtype=torch.long))
    bound = rules.get("key_bound", torch.full((batch, m), n))
    valid = rules.get("key_valid", torch.ones(batch, n, dtype=torch.bool))
    return segq.expand(batch, -1), segk.expand(batch, -1), bound.expand(batch, -1), valid.expand(batch, -1)


def check_against_reference(rules, batch, heads, m, n, *, device, head_dim=32, dtype=torch.float32,
                            block=16, grads=True, seed=0):
    """Run the kernels and the float64 reference on the same random inputs; compare output and gradients."""
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(batch, heads, length, head_dim, generator=g) for length in (m, n, n))
    grad_out = torch.randn(batch, heads, m, head_dim, generator=g)
    mask = reference.reference_mask(*full_rules(rules, batch, m, n))
    q64, k64, v64 = (t.to(dtype).double().requires_grad_() for t in (q, k, v))
    expected = reference.reference_attention(q64, k64, v64, mask)
    inputs = [t.to(device, dtype).requires_grad_() for t in (q, k, v)]
    out = fused_attention(*inputs, block_m=block, block_n=block, **{key: r.to(device) for key, r in rules.items()})
    tol = TOLERANCE[dtype]
    assert out.dtype == dtype
    torch.testing.assert_close(out.double().cpu(), expected.detach(), atol=tol, rtol=tol)
    if grads:
        got = torch.autograd.grad(out, inputs, grad_out.to(device, dtype))
        want = torch.autograd.grad(expected, (q64, k64, v64), grad_out.to(dtype).double())
        for name, a, b in zip("qkv", got, want, strict=True):
            torch.testing.assert_close(a.double().cpu(), b, atol=4 * tol, rtol=4 * tol, msg=f"d{name}")


def decoder_case(lengths, causal, budget):
    return reference.decoder_rules(lengths, causal, budget), 1, budget, budget


CASES = {
    # decoder self-attention: empty and length-1 runs, boundaries off the 16-token tiles, padding ids repeated
    "decoder": decoder_case([5, 0, 1, 19, 11], [False, True, True, False, True], budget=45),
    "causal_only": ({"key_bound": torch.arange(1, 41)[None].repeat(2, 1)}, 2, 40, 40),
    # encoder self-attention: padding keys only; batch row 1 is all padding (every query blind → mean of V)
    "encoder_padding": ({"key_valid": torch.stack([torch.arange(37) < 21, torch.zeros(37, dtype=torch.bool)])},
                        2, 37, 37),
    # cross-attention: M ≠ N, key validity only
    "cross": ({"key_valid": torch.rand(2, 23, generator=torch.Generator().manual_seed(1)) > 0.4}, 2, 41, 23),
    "no_rules": ({}, 1, 18, 33),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_reference_with_gradients(case, device):
    rules, batch, m, n = CASES[case]
    check_against_reference(rules, batch, 2, m, n, device=device)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision(dtype, device):
    rules, batch, m, n = CASES["decoder"]
    check_against_reference(rules, batch, 1, m, n, device=device, dtype=dtype)


@pytest.mark.parametrize("head_dim", [64, 128])
def test_larger_head_dims(head_dim, device):
    rules, batch, m, n = CASES["cross"]
    check_against_reference(rules, batch, 1, m, n, device=device, head_dim=head_dim, block=32)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), m=st.integers(1, 40), n=st.integers(1, 40), block=st.sampled_from([16, 32]),
       use=st.tuples(st.booleans(), st.booleans(), st.booleans()))
def test_random_rules_with_gradients(seed, m, n, block, use, device):
    g = torch.Generator().manual_seed(seed)
    candidates = {"q_segments": torch.randint(-1, 3, (2, m), generator=g),
                  "k_segments": torch.randint(-1, 3, (2, n), generator=g),
                  "key_bound": torch.randint(-1, n + 2, (2, m), generator=g),
                  "key_valid": torch.rand(2, n, generator=g) > torch.rand(1, generator=g)}
    chosen = [("q_segments", "k_segments")] * use[0] + [("key_bound",)] * use[1] + [("key_valid",)] * use[2]
    rules = {key: candidates[key] for keys in chosen for key in keys}
    check_against_reference(rules, 2, 1, m, n, device=device, block=block, seed=seed)


def test_skipped_tiles_are_never_read(device):
    """Keys hidden from every query sit in whole skipped tiles: NaN there must not reach any output."""
    n, valid_keys = 48, 16
    q, k, v = (torch.randn(1, 1, n, 32, device=device) for _ in range(3))
    k[..., valid_keys:, :] = float("nan")
    v[..., valid_keys:, :] = float("nan")
    bound = torch.arange(1, n + 1, device=device).clamp(max=valid_keys)[None]
    out = fused_attention(q, k, v, key_bound=bound, block_m=16, block_n=16)
    assert not out.isnan().any()
    mask = reference.reference_mask(*full_rules({"key_bound": bound.cpu()}, 1, n, n))
    expected = reference.reference_attention(q.cpu(), k.cpu()[..., :valid_keys, :], v.cpu()[..., :valid_keys, :],
                                             mask[..., :valid_keys])
    torch.testing.assert_close(out.double().cpu(), expected, atol=2e-5, rtol=2e-5)


def test_strided_inputs(device):
    """q, k, v as (B, N, H, Dh) → (B, H, N, Dh) transposed views, the way the model's blocks pass them."""
    g = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(2, 20, 2, 32, generator=g).to(device).transpose(1, 2) for _ in range(3))
    valid = torch.arange(20, device=device)[None].repeat(2, 1) < torch.tensor([[13], [20]], device=device)
    out = fused_attention(q, k, v, key_valid=valid, block_m=16, block_n=16)
    mask = reference.reference_mask(*full_rules({"key_valid": valid.cpu()}, 2, 20, 20))
    torch.testing.assert_close(out.double().cpu(), reference.reference_attention(q.cpu(), k.cpu(), v.cpu(), mask),
                               atol=2e-5, rtol=2e-5)


@pytest.mark.parametrize(("change", "message"), [
    ({"dtype": torch.float64}, "dtype must be one of"),
    ({"head_dim": 48}, "head dim must be one of"),
    ({"block_m": 8}, "tile sizes must be in"),
])
def test_unsupported_inputs_are_named(change, message, device):
    head_dim, dtype = change.get("head_dim", 32), change.get("dtype", torch.float32)
    q = torch.randn(1, 1, 4, head_dim, device=device, dtype=dtype)
    with pytest.raises(ValueError, match=message):
        fused_attention(q, q, q, block_m=change.get("block_m", 16))
