"""A batch masked with the 4M-21 mixture runs through the model, and the model sees exactly the budgets."""

from __future__ import annotations

import importlib

import pytest
import torch

from mm4m.core.masking import UnifiedMasking

from .helpers import INPUT_ONLY_4M21, config_4m21, realistic_batch

FourM = getattr(importlib.import_module("mm4m.core.model"), "FourM", None)
pytestmark = pytest.mark.skipif(FourM is None, reason="mm4m.core.model does not export FourM yet")

NUM_INPUT, NUM_TARGET, BATCH = 256, 256, 3


@pytest.fixture(scope="module")
def setup():
    policy = UnifiedMasking(config_4m21(NUM_INPUT, NUM_TARGET))
    keys = list(policy.modalities)
    torch.manual_seed(0)
    model = FourM({"domains_in": keys, "domains_out": [k for k in keys if k not in INPUT_ONLY_4M21], "dim": 32,
                   "encoder_depth": 1, "decoder_depth": 1, "num_heads": 2}).eval()
    batch = realistic_batch(policy.specs, BATCH, seed=5)
    masked = policy.mask(batch, generator=torch.Generator().manual_seed(5))
    return model, policy, masked


def counts_per_modality(mask: torch.Tensor, mod_ids: torch.Tensor, modality_id: int) -> torch.Tensor:
    return ((mod_ids == modality_id) & ~mask).sum(dim=1)


def test_forward_runs_with_a_finite_loss(setup):
    model, _, masked = setup
    with torch.no_grad():
        loss, per_modality = model(masked.modalities, NUM_INPUT, NUM_TARGET, loss_type="mod")
    assert torch.isfinite(loss)
    assert set(per_modality) <= set(model.decoder_embeddings.keys())


def test_encoder_tokens_per_modality_equal_the_input_budgets(setup):
    model, policy, masked = setup
    with torch.no_grad():
        tokens = model.forward_encoder(masked.modalities, NUM_INPUT).tokens
    for key, spec in policy.specs.items():
        seen = counts_per_modality(tokens.mask, tokens.mod_ids, spec.modality_id).numpy()
        visible = (~masked.modalities[key]["input_mask"]).sum(dim=1).numpy()
        assert (seen == visible).all(), key
        if spec.kind.is_image:
            assert (seen == masked.input_budgets[key]).all(), key
        else:
            assert (seen <= masked.input_budgets[key]).all(), key


def test_decoder_tokens_per_modality_equal_the_target_budgets(setup):
    model, policy, masked = setup
    with torch.no_grad():
        queries = model.select_decoder_tokens(model.embed_decoder(masked.modalities), NUM_TARGET)
    for key in model.decoder_embeddings.keys():
        spec = policy.specs[key]
        seen = counts_per_modality(queries.mask, queries.mod_ids, spec.modality_id).numpy()
        targets = (~masked.modalities[key]["target_mask"]).sum(dim=1).numpy()
        if spec.kind.is_image:
            assert (seen == masked.target_budgets[key]).all(), key
        else:  # teacher forcing shifts by one: L_tgt − 1 valid positions (spec §4.3 item 12)
            assert (seen == (targets - 1).clip(min=0)).all(), key
