"""Memcodes: ids are per-head argmaxes of q·k, outputs are the chosen value rows, the id layout round-trips."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mm4m.core.tokenizers.neural.memcodes import Memcodes


@settings(max_examples=40)
@given(batch=st.integers(1, 4), heads=st.sampled_from([1, 2, 4]), head_dim=st.integers(1, 6),
       k=st.integers(2, 16), seed=st.integers(0, 2**16))
def test_outputs_are_value_rows_of_the_best_code_per_head(batch, heads, head_dim, k, seed):
    torch.manual_seed(seed)
    q = Memcodes(heads * head_dim, k, heads).eval()
    latents = torch.randn(batch, heads * head_dim, 1, 1)
    with torch.no_grad():
        quant, _, ids = q(latents)
        values = torch.einsum("hnd,hdc->hnc", q.codes, q.to_v.weight)
        keys = torch.einsum("hnd,hdc->hnc", q.codes, q.to_k.weight)
    assert ids.shape == (batch, heads, 1, 1) and ids.dtype == torch.int64
    assert 0 <= int(ids.min()) and int(ids.max()) < k
    per_head = latents.view(batch, heads, head_dim)
    for b in range(batch):
        for h in range(heads):
            scores = keys[h] @ per_head[b, h]
            assert scores[ids[b, h, 0, 0]] == scores.max()
            torch.testing.assert_close(quant.view(batch, heads, head_dim)[b, h], values[h, ids[b, h, 0, 0]])
    torch.testing.assert_close(q.indices_to_embedding(ids), quant)


def test_training_uses_a_hard_gumbel_straight_through_choice():
    torch.manual_seed(0)
    q = Memcodes(8, 6, 2).train()
    latents = torch.randn(3, 8, 1, 1, requires_grad=True)
    quant, _, ids = q(latents)
    torch.testing.assert_close(quant.detach(), q.indices_to_embedding(ids).detach())
    quant.sum().backward()
    assert q.codes.grad is not None and latents.grad is not None
