"""Transfer masking: fixed input and target sets, fully visible inputs, whole targets."""

from __future__ import annotations

import pytest
import torch

from mm4m.core.masking import MaskingError, TransferMasking
from mm4m.core.special_tokens import sentinel_id
from mm4m.registry import get_registry
from mm4m.testing.invariants import check_masked_batch, sequence_input_target

from .helpers import realistic_batch

INPUTS = ("rgb@224", "caption")
TARGETS = ("tok_depth@224", "det")


@pytest.fixture(scope="module")
def result():
    policy = TransferMasking(INPUTS, TARGETS)
    batch = realistic_batch(policy.specs, size=3)
    return policy, batch, policy.mask(batch)


def test_satisfies_the_invariants(result):
    policy, _, masked = result
    check_masked_batch(masked, policy.specs)


def test_inputs_fully_visible_targets_fully_predicted(result):
    _, batch, masked = result
    assert not masked.modalities["rgb@224"]["input_mask"].any()
    depth = masked.modalities["tok_depth@224"]
    assert not depth["target_mask"].any() and depth["input_mask"].all()
    assert (depth["decoder_attention_mask"][:, 0] == 196).all()
    for b in range(3):
        inputs, targets = sequence_input_target(masked.modalities["caption"], b)
        assert inputs == masked.sequences["caption"].sample(b) and targets == []


def test_sequence_target_is_whole_and_at_max_tokens(result):
    _, _, masked = result
    det = masked.modalities["det"]
    for b in range(3):
        first = int(torch.nonzero(~det["target_mask"][b])[0])
        assert first == get_registry().spec("det").max_tokens
        _, targets = sequence_input_target(det, b)
        assert targets == [sentinel_id(1), *masked.sequences["det"].sample(b), sentinel_id(2)]


def test_overlapping_sets_are_refused():
    with pytest.raises(MaskingError, match=r"modality 'caption' is both an input and a target"):
        TransferMasking(["caption"], ["caption"])


def test_input_only_modality_as_target_is_refused():
    with pytest.raises(MaskingError, match=r"modality 't5_caption' cannot be a target"):
        TransferMasking(["caption"], ["t5_caption"])
