"""The invariant checkers accept correct outputs (ours and the reference's) and catch broken ones."""

from __future__ import annotations

import gzip
import json
import struct

import pytest
import torch
from safetensors.torch import load

from mm4m.core.masking import UnifiedMasking
from mm4m.core.special_tokens import sentinel_id
from mm4m.registry import get_registry
from mm4m.testing import invariants as inv

FIELDS = ("tensor", "input_mask", "target_mask", "decoder_attention_mask")
KEYS = ("caption", "tok_depth@224")


@pytest.fixture
def masked():
    specs = [get_registry().spec(k) for k in KEYS]
    policy = UnifiedMasking.for_specs(specs, num_input_tokens=60, num_target_tokens=60)
    batch = {"caption": [list(range(300, 340)), list(range(400, 420))],
             "tok_depth@224": torch.randint(0, 8192, (2, 196), generator=torch.Generator().manual_seed(0))}
    result = policy.mask(batch, generator=torch.Generator().manual_seed(0))
    return result, {s.key: s for s in specs}


def test_reference_fixture_batch_passes(shared_dir):
    raw = gzip.decompress((shared_dir / "fixtures/4m-golden/batch.safetensors.gz").read_bytes())
    header = json.loads(raw[8: 8 + struct.unpack("<Q", raw[:8])[0]])
    order = json.loads(header["__metadata__"]["modality_order"])
    tensors = load(raw)
    mod_dict = {k: {f: tensors[f"{k}.{f}"] for f in FIELDS} for k in order}
    inv.check_mod_dict(mod_dict, {k: get_registry().spec(k) for k in order})


def test_our_output_passes(masked):
    inv.check_masked_batch(*masked)


def test_overlap_is_invariant_1(masked):
    result, _ = masked
    out = result.modalities["tok_depth@224"]
    out["target_mask"][0] = out["input_mask"][0].clone()
    out["target_mask"][0, torch.nonzero(~out["input_mask"][0])[0]] = False
    with pytest.raises(inv.InvariantViolation, match=r"invariant 1: modality 'tok_depth@224', sample 0"):
        inv.check_disjoint("tok_depth@224", out)


def test_wrong_grid_count_is_invariant_2(masked):
    result, specs = masked
    out = result.modalities["tok_depth@224"]
    b_in = result.input_budgets["tok_depth@224"] + 1
    with pytest.raises(inv.InvariantViolation, match=r"invariant 2: .* expected \d+ inputs"):
        inv.check_grid_budgets("tok_depth@224", specs["tok_depth@224"], out, b_in, result.target_budgets["tok_depth@224"])


def test_moved_attention_code_is_invariant_5(masked):
    result, _ = masked
    out = result.modalities["tok_depth@224"]
    out["decoder_attention_mask"][0] = torch.roll(out["decoder_attention_mask"][0], 1)
    with pytest.raises(inv.InvariantViolation, match=r"invariant 5: modality 'tok_depth@224', sample 0"):
        inv.check_grid_attention("tok_depth@224", out)


def test_stray_token_is_invariant_6(masked):
    result, _ = masked
    out = result.modalities["caption"]
    out["tensor"][1, -1] = 999
    with pytest.raises(inv.InvariantViolation, match=r"invariant 6: modality 'caption', sample 1: .*\[PAD\]"):
        inv.check_text_layout("caption", out)


def test_lost_token_is_invariant_7(masked):
    result, _ = masked
    out = result.modalities["caption"]
    used = torch.nonzero(~out["input_mask"][0])[:, 0]
    ordinary = [int(i) for i in used if int(out["tensor"][0, i]) >= 204]
    assert ordinary, "the fixture draw must leave an ordinary input token to corrupt"
    out["tensor"][0, ordinary[0]] += 1
    with pytest.raises(inv.InvariantViolation, match=r"invariant 7: modality 'caption', sample 0"):
        inv.check_reconstruction("caption", out, result.sequences["caption"], result.target_truncated["caption"])


def test_sentinel_out_of_order_is_invariant_8(masked):
    result, _ = masked
    out = result.modalities["caption"]
    out["tensor"][0, 0] = sentinel_id(7)
    out["input_mask"][0, 0] = False
    out["target_mask"][0, 0] = True
    with pytest.raises(inv.InvariantViolation, match=r"invariant 8: modality 'caption', sample 0"):
        inv.check_sentinels("caption", out)


def test_too_long_input_is_invariant_11(masked):
    result, _ = masked
    with pytest.raises(inv.InvariantViolation, match=r"invariant 11: modality 'caption'"):
        inv.check_sequence_budgets("caption", result.modalities["caption"], result.input_budgets["caption"] * 0 - 1,
                                   result.target_budgets["caption"])


def test_integer_masks_are_invariant_17(masked):
    result, specs = masked
    out = dict(result.modalities["tok_depth@224"])
    out["input_mask"] = out["input_mask"].to(torch.uint8)
    with pytest.raises(inv.InvariantViolation, match=r"invariant 17: .* 'input_mask' must be bool"):
        inv.check_encoding("tok_depth@224", specs["tok_depth@224"], out)
