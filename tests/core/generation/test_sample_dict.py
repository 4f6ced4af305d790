"""Sample-dict layouts of spec §5.1 and the emptied copies of §5.7."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.generation.sample_dict import (
    empty_target,
    full_input,
    initial_sample,
    prompted_target,
    without_conditions,
)
from mm4m.core.special_tokens import EOS_ID, PAD_ID, sentinel_id
from mm4m.registry import get_registry

S1, S2 = sentinel_id(1), sentinel_id(2)


def spec(key):
    return get_registry().spec(key)


def test_full_grid_input_is_visible_and_not_a_target():
    entry = full_input(spec("tok_rgb@224"), torch.zeros(2, 14, 14, dtype=torch.long))
    assert entry["input_mask"].shape == (2, 196) and not entry["input_mask"].any() and entry["target_mask"].all()


@given(length=st.integers(1, 30), data=st.data())
def test_full_sequence_input_is_visible_through_its_first_eos(length, data):
    eos_at = data.draw(st.integers(0, length - 1))
    tensor = torch.tensor([data.draw(st.lists(st.integers(4, 3000), min_size=length, max_size=length))])
    tensor[0, eos_at] = EOS_ID
    entry = full_input(spec("caption"), tensor)
    visible = (~entry["input_mask"][0]).nonzero().flatten().tolist()
    assert visible == list(range(eos_at + 1)) and entry["target_mask"].all()


def test_full_sequence_input_without_eos_names_the_rows():
    with pytest.raises(ValueError, match=r"full input 'caption': every row must contain \[EOS\] \(3\); rows \[1\]"):
        full_input(spec("caption"), torch.tensor([[7, EOS_ID], [7, 8]]))


def test_sequence_embedding_input_uses_the_valid_mask():
    valid = torch.tensor([[True, True, False]])
    entry = full_input(spec("t5_caption"), torch.randn(1, 3, 4096), valid=valid)
    assert torch.equal(entry["input_mask"], ~valid)


def test_empty_grid_target_is_all_to_predict():
    entry = empty_target(spec("tok_depth@224"), 3)
    assert entry["tensor"].shape == (3, 196) and entry["input_mask"].all() and not entry["target_mask"].any()


@given(length=st.integers(2, 40))
def test_empty_sequence_target_is_a_sentinel_placeholder(length):
    entry = empty_target(spec("caption"), 1, num_tokens=length)
    assert entry["tensor"][0].tolist() == [S1, S1] + [PAD_ID] * (length - 3) + [S2] if length > 2 else [S1, S2]
    assert (~entry["input_mask"][0]).nonzero().flatten().tolist() == [0]
    assert torch.equal(entry["target_mask"], ~entry["input_mask"])


def test_prompted_target_follows_the_prompt():
    entry = prompted_target(torch.tensor([[4321, 5050, S1]]), 4)
    assert entry["tensor"][0].tolist() == [4321, 5050, S1, S1, PAD_ID, PAD_ID, EOS_ID]
    assert entry["input_mask"][0].tolist() == [False] * 3 + [True] * 4


def test_without_conditions_empties_only_the_named_domains():
    specs = {k: spec(k) for k in ("tok_rgb@224", "caption", "t5_caption", "det")}
    sample = {"tok_rgb@224": full_input(specs["tok_rgb@224"], torch.ones(1, 196, dtype=torch.long)),
              "caption": full_input(specs["caption"], torch.tensor([[9, 9, EOS_ID, 0]])),
              "t5_caption": full_input(specs["t5_caption"], torch.ones(1, 3, 4096), valid=torch.ones(1, 3).bool()),
              "det": full_input(specs["det"], torch.tensor([[8, EOS_ID]]))}
    out = without_conditions(sample, specs, ["tok_rgb@224", "caption", "t5_caption"])
    assert out["tok_rgb@224"]["input_mask"].all()
    assert out["caption"]["tensor"][0].tolist() == [S1, S1, PAD_ID, S2]
    assert (~out["caption"]["input_mask"][0]).nonzero().flatten().tolist() == [0]
    assert not out["t5_caption"]["tensor"].any() and out["t5_caption"]["input_mask"][0].tolist() == [False, True, True]
    assert out["det"] is sample["det"] and not sample["tok_rgb@224"]["input_mask"].any()
    with pytest.raises(KeyError, match="guidance condition 'depth' is not in the sample"):
        without_conditions(sample, specs, ["depth"])


def test_initial_sample_puts_conditions_before_empty_targets():
    specs = {k: spec(k) for k in ("tok_rgb@224", "tok_depth@224", "caption")}
    sample = initial_sample(specs, {"tok_rgb@224": torch.zeros(2, 196, dtype=torch.long)},
                            ["tok_depth@224", "caption"], sequence_tokens={"caption": 5})
    assert list(sample) == ["tok_rgb@224", "tok_depth@224", "caption"]
    assert sample["caption"]["tensor"].shape == (2, 5) and sample["tok_depth@224"]["input_mask"].all()
    with pytest.raises(ValueError, match="at least one condition tensor"):
        initial_sample(specs, {}, ["caption"])
