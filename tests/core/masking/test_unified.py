"""The unified policy on the 4M-21 modality mix: layouts, reproducibility and error messages."""

from __future__ import annotations

import pytest
import torch

from mm4m.core.masking import MaskingError, UnifiedMasking
from mm4m.core.masking.layout import text_length
from mm4m.testing.invariants import check_masked_batch

from .helpers import config_4m21, realistic_batch


@pytest.fixture(scope="module")
def policy() -> UnifiedMasking:
    return UnifiedMasking(config_4m21())


@pytest.fixture(scope="module")
def batch(policy):
    return realistic_batch(policy.specs, size=6)


def test_4m21_batch_satisfies_every_invariant(policy, batch):
    result = policy.mask(batch, generator=torch.Generator().manual_seed(1))
    assert tuple(result.modalities) == policy.modalities
    check_masked_batch(result, policy.specs)
    for key, out in result.modalities.items():
        spec = policy.specs[key]
        expected = text_length(spec.max_tokens) if spec.kind.reference_type == "seq" else spec.max_tokens
        assert out["input_mask"].shape == (6, expected)
    assert result.modalities["t5_caption"]["tensor"].shape == (6, 77, 4096)
    for key in ("rgb@224", "t5_caption"):
        assert result.modalities[key]["target_mask"].all(), f"{key} can never be a target"


def test_input_budgets_respect_the_run_budget(policy, batch):
    result = policy.mask(batch, generator=torch.Generator().manual_seed(2))
    visible = sum((~out["input_mask"]).sum(dim=1) for out in result.modalities.values())
    assert (visible <= policy.config.num_input_tokens).all()


def test_same_seed_same_masks_other_seed_other_masks(policy, batch):
    first = policy(batch, generator=torch.Generator().manual_seed(3))
    again = policy(batch, generator=torch.Generator().manual_seed(3))
    other = policy(batch, generator=torch.Generator().manual_seed(4))
    for key in first:
        for name, value in first[key].items():
            assert torch.equal(value, again[key][name]), (key, name)
    assert any(not torch.equal(first[k]["input_mask"], other[k]["input_mask"]) for k in first)


def test_missing_modality_is_named(policy, batch):
    partial = {k: v for k, v in batch.items() if k != "det"}
    with pytest.raises(MaskingError, match=r"no data for modality 'det'"):
        policy(partial)


def test_mismatched_batch_sizes_are_named(policy, batch):
    uneven = {**batch, "caption": batch["caption"][:2]}
    with pytest.raises(MaskingError, match=r"modality 'caption' has 2 samples, but '.*' has 6"):
        policy(uneven)


def test_bad_token_id_is_named(policy, batch):
    bad = {**batch, "det": [[40000]] + batch["det"][1:]}
    with pytest.raises(MaskingError, match=r"modality 'det', sample 0: token 40000 at position 0 is not an id in "
                                           r"\[0, 30000\)"):
        policy(bad)


def test_untokenised_text_is_refused(policy, batch):
    with pytest.raises(MaskingError, match=r"modality 'caption', sample 0: .* found str \(tokenise text"):
        policy({**batch, "caption": ["a photo"] * 6})


def test_bad_grid_shape_is_named(policy, batch):
    with pytest.raises(MaskingError, match=r"modality 'tok_depth@224': expected token ids \(B, 196\).*found \(6, 10\)"):
        policy({**batch, "tok_depth@224": torch.zeros(6, 10, dtype=torch.long)})


def test_input_only_modality_in_out_domains_is_refused():
    config = config_4m21()
    wrong = config.model_copy(update={"out_domains": (*config.out_domains, "rgb@224")})
    with pytest.raises(MaskingError, match=r"modality 'rgb@224' is in out_domains .* cannot be a target"):
        UnifiedMasking(wrong)
