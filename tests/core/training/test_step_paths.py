"""The fast step (fused AdamW, row-sparse embedding gradients) gives the reference step's results."""

from __future__ import annotations

import copy

import pytest
import torch

from mm4m.core.data.loader import MaskedMicroBatches
from mm4m.core.data.sample_order import BatchPlan
from mm4m.core.data.shards import ShardedDataset
from mm4m.core.model.fourm import FourM
from mm4m.core.training.data import masking_policy
from mm4m.core.training.embedding_grads import RowSparseEmbeddingGrads
from mm4m.core.training.optimizer import build_optimizer
from mm4m.core.training.step import StepOptions, train_step

OPTIONS = StepOptions(num_input_tokens=24, num_target_tokens=24, clip_grad=1.0)


@pytest.fixture
def setup(tiny_config):
    model_config = tiny_config.model.fourm_config()
    torch.manual_seed(0)
    model = FourM(model_config).train()
    plan = BatchPlan(micro_batch_size=4, accumulation_steps=2)
    batches = MaskedMicroBatches(ShardedDataset(tiny_config.data.path), masking_policy(tiny_config, model_config),
                                 plan, end_step=3, keys=model_config.all_domains)
    return tiny_config, model, [batches[i].mod_dict for i in range(len(batches))]


def backward(model, mod_dict):
    loss, _ = model(mod_dict, 24, 24)
    loss.backward()


def test_row_sparse_gradients_are_bit_identical_to_dense(setup):
    _, dense, micro = setup
    sparse = copy.deepcopy(dense)
    grads = RowSparseEmbeddingGrads(sparse)
    backward(dense, micro[0])
    backward(sparse, micro[0])
    grads.collect()
    grads.attach()
    for (name, a), (_, b) in zip(dense.named_parameters(), sparse.named_parameters(), strict=True):
        assert (a.grad is None) == (b.grad is None), name
        if a.grad is not None:
            assert not b.grad.is_sparse and torch.equal(a.grad, b.grad), name
    assert dense.decoder_embeddings["tok_semseg@224"].token_emb.weight.grad is None  # unused table: no gradient


def test_released_buffers_are_zero_for_the_next_step(setup):
    _, model, micro = setup
    grads = RowSparseEmbeddingGrads(model)
    backward(model, micro[0])
    grads.collect()
    grads.attach()
    table = model.encoder_embeddings["caption"].token_emb.weight
    buffer = table.grad
    assert buffer.abs().sum() > 0
    grads.release()
    assert table.grad is None and buffer.abs().sum() == 0


@pytest.mark.parametrize("implementation", ["for-loop", "foreach", "fused"])
def test_fast_steps_match_the_reference_step(setup, implementation):
    """Reference: per-parameter AdamW with dense gradients; 3 steps of 2 accumulated micro-batches each.

    Row-sparse gradients change nothing: with the per-parameter or foreach AdamW every weight is
    bit-identical. Torch's fused AdamW kernel evaluates the same update in another order, so it agrees
    to float rounding (amplified where a gradient is near AdamW's eps), not bit for bit.
    """
    config, reference, micro = setup
    fast = copy.deepcopy(reference)
    slow_opt = build_optimizer(reference, config.optim.model_copy(update={"implementation": "for-loop"}))
    fast_opt = build_optimizer(fast, config.optim.model_copy(update={"implementation": implementation}))
    sparse = RowSparseEmbeddingGrads(fast)
    for step in range(3):
        pair = micro[2 * step: 2 * step + 2]
        a = train_step(reference, slow_opt, pair, OPTIONS, device=torch.device("cpu"), lr=1e-2)
        b = train_step(fast, fast_opt, pair, OPTIONS, device=torch.device("cpu"), lr=1e-2, sparse_grads=sparse)
        torch.testing.assert_close(b.loss, a.loss, rtol=1e-6, atol=1e-6)
    for (name, p), q in zip(reference.named_parameters(), fast.parameters(), strict=True):
        if implementation == "fused":
            torch.testing.assert_close(q, p, rtol=1e-4, atol=1e-5, msg=lambda m, name=name: f"{name}: {m}")
        else:
            assert torch.equal(q, p), name
    unused = "decoder_embeddings.tok_semseg@224.token_emb.weight"
    assert torch.equal(dict(fast.named_parameters())[unused], dict(reference.named_parameters())[unused])
