"""The attention entry point equals the reference's dense masked softmax for every rule combination."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mm4m.core.model.attention import attention, visibility_mask


def reference_attention(q, k, v, mask):
    """The reference's way: scores, masked_fill(−float32 max), softmax, weighted sum."""
    scores = (q @ k.transpose(-2, -1)) * q.shape[-1] ** -0.5
    if mask is not None:
        scores = scores.masked_fill(~mask, -torch.finfo(scores.dtype).max)
    return scores.softmax(-1) @ v


def dense_rules(nq, nk, segq, segk, bound, valid):
    """The visibility rules written out as loops over (i, j), independently of `visibility_mask`."""
    b = segq.shape[0]
    mask = torch.ones(b, 1, nq, nk, dtype=torch.bool)
    for bi in range(b):
        for i in range(nq):
            for j in range(nk):
                mask[bi, 0, i, j] = bool(valid[bi, j]) and j < int(bound[bi, i]) and int(segq[bi, i]) == int(segk[bi, j])
    return mask


@settings(max_examples=60)
@given(seed=st.integers(0, 2**31 - 1), nq=st.integers(1, 9), nk=st.integers(1, 9), heads=st.integers(1, 3),
       use=st.tuples(st.booleans(), st.booleans(), st.booleans()))
def test_matches_reference_softmax(seed, nq, nk, heads, use):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(2, heads, n, 8, generator=g) for n in (nq, nk, nk))
    segq, segk = torch.randint(0, 3, (2, nq), generator=g), torch.randint(0, 3, (2, nk), generator=g)
    bound = torch.randint(0, nk + 1, (2, nq), generator=g)
    valid = torch.rand(2, nk, generator=g) > 0.3
    rules = {}
    if use[0]:
        rules.update(q_segments=segq, k_segments=segk)
    if use[1]:
        rules["key_bound"] = bound
    if use[2]:
        rules["key_valid"] = valid
    dense = dense_rules(nq, nk, segq if use[0] else torch.zeros_like(segq), segk if use[0] else torch.zeros_like(segk),
                        bound if use[1] else torch.full_like(bound, nk), valid if use[2] else torch.ones_like(valid))
    mask = visibility_mask(nq, nk, **rules)
    assert mask is None or torch.equal(mask.expand_as(dense), dense)
    out = attention(q, k, v, **rules)
    assert not out.isnan().any()
    torch.testing.assert_close(out, reference_attention(q, k, v, dense), atol=1e-6, rtol=1e-5)


def test_query_without_visible_key_averages_all_values():
    q, k, v = torch.randn(1, 2, 3, 4), torch.randn(1, 2, 5, 4), torch.randn(1, 2, 5, 4)
    out = attention(q, k, v, key_valid=torch.zeros(1, 5, dtype=torch.bool))
    torch.testing.assert_close(out, v.mean(dim=-2, keepdim=True).expand_as(out))


def test_segments_need_both_sides():
    q = torch.randn(1, 1, 2, 4)
    with pytest.raises(ValueError, match="k_segments"):
        attention(q, q, q, q_segments=torch.zeros(1, 2, dtype=torch.long))


def test_no_keys_at_all_gives_zeros():
    q, kv = torch.randn(2, 3, 4, 8), torch.randn(2, 3, 0, 8)
    out = attention(q, kv, kv, key_valid=torch.zeros(2, 0, dtype=torch.bool))
    assert torch.equal(out, reference_attention(q, kv, kv, None))
    assert not out.any()
