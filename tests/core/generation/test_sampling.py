"""Token sampling: greedy path, top-k / top-p filters, seeded multinomial draws."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.generation.guidance import guided_logits, multi_guided_logits
from mm4m.core.generation.sampling import filter_top_k, filter_top_p, sample_tokens, top_k_count

logit_rows = st.lists(st.lists(st.floats(-20, 20, width=32), min_size=2, max_size=40), min_size=1, max_size=4).filter(
    lambda rows: len({len(r) for r in rows}) == 1).map(lambda rows: torch.tensor(rows))


@given(logits=logit_rows, temperature=st.sampled_from([0.0, 1e-11, -1e-10]))
def test_near_zero_temperature_is_argmax_with_probability_one(logits, temperature):
    ids, probs = sample_tokens(logits, temperature, top_k=3, top_p=0.5)
    assert torch.equal(ids, logits.argmax(-1))
    assert torch.equal(probs, torch.ones(logits.shape[0]))


@given(logits=logit_rows, k=st.integers(1, 50))
def test_top_k_keeps_at_least_k_largest_and_nothing_smaller(logits, k):
    filtered = filter_top_k(logits, k)
    kept = torch.isfinite(filtered)
    k = min(k, logits.shape[-1])
    assert (kept.sum(-1) >= k).all()
    kth = torch.topk(logits, k, -1).values[:, -1:]
    assert torch.equal(kept, logits >= kth)


def test_top_k_fraction_of_vocabulary():
    assert top_k_count(0.25, 40) == 10
    assert top_k_count(0.001, 40) == 1
    assert top_k_count(0, 40) is None and top_k_count(0.0, 40) is None
    assert top_k_count(7, 5) == 5
    with pytest.raises(ValueError, match="top_k must be a count >= 0 or a fraction"):
        top_k_count(-1, 5)


@given(logits=logit_rows, p=st.floats(0.01, 0.99))
def test_top_p_keeps_smallest_prefix_exceeding_p_and_always_the_first(logits, p):
    filtered = filter_top_p(logits, p)
    for row, out in zip(logits, filtered):
        order = torch.sort(row, descending=True).indices
        kept = torch.isfinite(out[order])
        count = int(kept.sum())
        assert kept[:count].all() and count >= 1  # a prefix of the descending order, never empty
        cumulative = torch.softmax(row[order], -1).cumsum(-1)
        assert (cumulative[: count - 1] <= p).all()  # every token before the last kept one left mass <= p
        assert count == len(row) or cumulative[count - 1] > p


def test_top_p_of_zero_or_one_keeps_everything():
    logits = torch.randn(3, 11)
    assert torch.equal(filter_top_p(logits, 0.0), logits) and torch.equal(filter_top_p(logits, 1.0), logits)


@given(seed=st.integers(0, 2**31), temperature=st.floats(0.1, 5))
def test_a_seeded_generator_reproduces_draws(seed, temperature):
    logits = torch.linspace(-3, 3, 64).repeat(5, 1)
    first = sample_tokens(logits, temperature, generator=torch.Generator().manual_seed(seed))
    second = sample_tokens(logits, temperature, generator=torch.Generator().manual_seed(seed))
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])


def test_draws_only_unfiltered_tokens_and_reports_their_probability():
    logits = torch.tensor([[5.0, 4.0, 3.0, -1.0, -2.0]]).repeat(200, 1)
    ids, probs = sample_tokens(logits, 2.0, top_k=2, generator=torch.Generator().manual_seed(0))
    assert set(ids.tolist()) == {0, 1}
    expected = torch.softmax(torch.tensor([5.0, 4.0]) / 2.0, -1)
    assert torch.allclose(probs, expected[ids])


@given(scale=st.floats(-3, 5))
def test_guidance_interpolates_and_extrapolates(scale):
    cond, uncond = torch.tensor([1.0, 3.0]), torch.tensor([0.5, -1.0])
    assert torch.allclose(guided_logits(cond, uncond, scale), uncond + scale * (cond - uncond))
    assert torch.allclose(multi_guided_logits([cond], uncond, [scale]), guided_logits(cond, uncond, scale))
    assert torch.equal(guided_logits(cond, uncond, 1.0), cond)


def test_multi_guidance_needs_one_weight_per_condition():
    with pytest.raises(ValueError, match=r"one weight per condition \(2\), found 1"):
        multi_guided_logits([torch.zeros(2), torch.zeros(2)], torch.zeros(2), [1.0])
