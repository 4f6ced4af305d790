"""Lucid cosine-codebook quantizer: inference invariants, EMA update, dead-code replacement, straight-through."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from mm4m.core.tokenizers.neural.lucid import LucidQuantizer, l2norm

shapes = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4))  # (B, h, w)


def quantizer(dim: int, k: int, seed: int, **kwargs) -> LucidQuantizer:
    torch.manual_seed(seed)
    q = LucidQuantizer(dim, k, **kwargs)
    q._codebook.embed.mul_(torch.rand(k, 1) + 0.5)  # stored rows are not unit norm in released checkpoints
    return q


@settings(max_examples=40)
@given(shape=shapes, dim=st.integers(2, 8), k=st.integers(2, 12), seed=st.integers(0, 2**16))
def test_eval_outputs_are_raw_codebook_rows_of_the_most_cosine_similar_code(shape, dim, k, seed):
    q = quantizer(dim, k, seed).eval()
    b, h, w = shape
    latents = torch.randn(b, dim, h, w, generator=torch.Generator().manual_seed(seed))
    quant, loss, ids = q(latents)
    assert ids.shape == (b, h, w) and ids.dtype == torch.int64
    assert 0 <= int(ids.min()) and int(ids.max()) < k
    embed = q._codebook.embed
    assert torch.equal(quant.permute(0, 2, 3, 1), embed[ids])
    scores = l2norm(latents.permute(0, 2, 3, 1)) @ l2norm(embed).t()
    assert torch.equal(scores.gather(-1, ids[..., None]).squeeze(-1), scores.max(dim=-1).values)
    assert torch.equal(q.indices_to_embedding(ids), quant)
    assert float(loss.sum()) == 0.0


def test_ema_update_follows_the_cosine_variant_formula():
    q = quantizer(4, 3, seed=0, decay=0.9, threshold_ema_dead_code=0.0).train()
    codebook = q._codebook
    codebook.embed.copy_(torch.eye(3, 4) * torch.tensor([[1.0], [2.0], [0.5]]))
    codebook.cluster_size.copy_(torch.tensor([1.0, 2.0, 3.0]))
    before, sizes = codebook.embed.clone(), codebook.cluster_size.clone()
    gen = torch.Generator().manual_seed(0)
    scale = 1 + torch.rand(10, 1, generator=gen)
    flat = 0.1 * torch.randn(10, 4, generator=gen) + torch.eye(4)[[0, 1, 0, 0, 1, 1, 0, 1, 0, 0]] * scale
    ids = codebook.assign(flat)
    codebook.ema_update(flat, ids)
    counts = torch.bincount(ids, minlength=3).float()
    assert counts[2] == 0 and counts[0] > 0 and counts[1] > 0
    assert torch.allclose(codebook.cluster_size, 0.9 * sizes + 0.1 * counts)
    for code in range(3):
        if counts[code] == 0:
            expected = before[code]  # unused codes keep their value
        else:
            target = l2norm(l2norm(flat)[ids == code].mean(0))
            expected = 0.9 * before[code] + 0.1 * target
        torch.testing.assert_close(codebook.embed[code], expected)


def test_batch_random_replaces_dead_codes_by_normalised_batch_latents():
    q = quantizer(4, 6, seed=1, threshold_ema_dead_code=0.5).train()
    codebook = q._codebook
    codebook.cluster_size.copy_(torch.tensor([1.0, 0.0, 2.0, 0.1, 3.0, 0.0]))
    alive = codebook.embed[[0, 2, 4]].clone()
    normed = l2norm(torch.randn(5, 4))
    codebook.replace_dead_codes(normed, torch.Generator().manual_seed(0))
    assert torch.equal(codebook.embed[[0, 2, 4]], alive)
    for row in codebook.embed[[1, 3, 5]]:
        assert any(torch.equal(row, candidate) for candidate in normed)


def test_linde_buzo_gray_copies_the_most_used_codes():
    q = quantizer(4, 4, seed=2, threshold_ema_dead_code=0.5, replacement="linde_buzo_gray").train()
    codebook = q._codebook
    codebook.cluster_size.copy_(torch.tensor([5.0, 0.0, 9.0, 0.0]))
    most_used = codebook.embed[[2, 0]].clone()
    codebook.replace_dead_codes(l2norm(torch.randn(3, 4)))
    torch.testing.assert_close(codebook.embed[[1, 3]], most_used, atol=1e-8, rtol=0.0)


def test_training_forward_is_straight_through_with_a_commitment_loss():
    q = quantizer(4, 5, seed=3, commitment_weight=0.5, threshold_ema_dead_code=0.0).train()
    latents = torch.randn(2, 4, 2, 2, requires_grad=True)
    rows_before_update = q._codebook.embed.clone()
    quant, loss, ids = q(latents)
    assert not torch.equal(q._codebook.embed, rows_before_update)  # the EMA ran
    chosen = rows_before_update[ids].permute(0, 3, 1, 2)
    torch.testing.assert_close(loss, 0.5 * F.mse_loss(chosen, latents.detach()))
    torch.testing.assert_close(quant.detach(), chosen)
    quant.sum().backward()
    assert torch.equal(latents.grad, torch.ones_like(latents))
