"""The fixture-comparison rule of mm4m.testing.numerics: bounds, float64 recomputation, near ties, chains."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from mm4m.testing.numerics import (UNIT_ROUNDOFF, NearTieWarning, amplification, assert_discrete_match,
                                   assert_within_float32_bound, chain_bounds, in_float64, reduction_length,
                                   rounding_bound, summation_bound, to_float64, top2_margin,
                                   traced_reduction_length)


def test_rounding_bound_is_six_sigma_of_uniform_roundings():
    # n roundings uniform in [−u, u] have std u·√(n/3); the bound is 6 of those, scaled.
    assert rounding_bound(3, 2.0) == pytest.approx(6 * UNIT_ROUNDOFF * 2.0)
    assert rounding_bound(300, 1.0) == pytest.approx(60 * UNIT_ROUNDOFF)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5000), st.integers(0, 2**31 - 1), st.booleans())
def test_float32_sums_stay_within_the_summation_bound(n, seed, positive):
    """torch's float32 sum and a strict left-to-right float32 sum of random terms lie within the bound.

    For mixed signs the bound takes |terms|: their partial sums bound those of any order of the signed terms.
    """
    generator = torch.Generator().manual_seed(seed)
    terms = (torch.rand if positive else torch.randn)(n, generator=generator, dtype=torch.float64).float()
    bound = float(summation_bound(terms.abs()))
    assert abs(float(terms.sum()) - float(terms.double().sum())) <= bound
    head = terms[:256]  # a Python loop gives the exact sequential float32 order; kept short
    sequential = torch.tensor(0.0)
    for value in head:
        sequential = sequential + value
    assert abs(float(sequential) - float(head.double().sum())) <= float(summation_bound(head.abs()))


def test_within_bound_names_the_tensor_the_side_and_the_place():
    truth = torch.zeros(3, dtype=torch.float64)
    ours = torch.tensor([0.0, 1e-3, 0.0])
    with pytest.raises(AssertionError, match=r"logits: ours is 0\.001 from the float64 recomputation at \(1,\)"):
        assert_within_float32_bound("logits", ours, None, truth, 1e-6)
    with pytest.raises(AssertionError, match="the reference"):
        assert_within_float32_bound("logits", torch.zeros(3), ours, truth, 1e-6)
    with pytest.raises(AssertionError, match=r"shape \(2,\)"):
        assert_within_float32_bound("logits", torch.zeros(2), None, truth, 1e-6)
    assert_within_float32_bound("logits", ours, None, truth, torch.tensor([0.0, 1e-3, 0.0]))


def test_discrete_match_fails_firm_mismatches_and_reports_near_ties():
    scores = torch.tensor([[1.0, 0.0], [0.5, 0.5 - 1e-9]], dtype=torch.float64)
    margin = top2_margin(scores)
    assert margin.tolist() == pytest.approx([1.0, 1e-9])
    reference = torch.tensor([0, 0])
    with pytest.raises(AssertionError, match="1 of 2 decisions differ"):
        assert_discrete_match("ids", torch.tensor([1, 0]), reference, margin, 1e-6)
    with pytest.warns(NearTieWarning, match="1 of 2 decisions are near ties.*1 of them differ"):
        assert_discrete_match("ids", torch.tensor([0, 1]), reference, margin, 1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_discrete_match("ids", reference, reference, torch.tensor([1.0, 1.0]), 1e-6)


def test_float64_recomputation_copies_modules_and_leaves_the_originals():
    layer = nn.Linear(3, 2)
    x = torch.randn(4, 3)
    out = in_float64(layer, x)
    assert out.dtype == torch.float64 and layer.weight.dtype == torch.float32
    assert in_float64(lambda: torch.zeros(1)).dtype == torch.float64
    assert torch.get_default_dtype() == torch.float32
    nested = to_float64({"a": [torch.ones(1)], "ids": torch.ones(1, dtype=torch.long)})
    assert nested["a"][0].dtype == torch.float64 and nested["ids"].dtype == torch.long


def test_reduction_lengths_count_fan_ins_norms_and_attention():
    class Attention(nn.Module):
        def forward(self, x):
            return x

    net = nn.Sequential(nn.Conv2d(4, 8, 3), nn.GroupNorm(2, 8), Attention(), nn.LayerNorm(10))
    assert reduction_length(net) == 4 * 9 + 2 * 10
    # On a (1, 4, 12, 12) input: the group norm reduces 4 channels × 10 × 10 twice, attention 100 tokens twice.
    assert traced_reduction_length(net, torch.randn(1, 4, 12, 12)) == 4 * 9 + 2 * 10 + 2 * 400 + 2 * 100


def test_chain_bounds_grow_with_each_steps_amplification():
    assert chain_bounds([1.0, 1.0, 1.0], [0.0, 2.0, 2.0]) == pytest.approx([1.0, math.sqrt(5), math.sqrt(21)])
    with pytest.raises(ValueError):
        chain_bounds([1.0], [1.0, 2.0])


def test_amplification_measures_a_linear_steps_gain():
    state = torch.zeros(1000, dtype=torch.float64)
    assert amplification(lambda x: 3 * x, state, 1e-6) == pytest.approx(3.0)
    assert amplification(lambda x: x / 4, state, 1e-6) == pytest.approx(0.25)
