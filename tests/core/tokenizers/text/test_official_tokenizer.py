"""The released 4M text tokenizer: fixture goldens, the §1.5 special layout and detokenisation."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core import special_tokens
from mm4m.core.tokenizers.text import COCO_CLASS_NAMES, TextTokenizerError, special_tokens_layout

STRUCTURED_WORDS = st.one_of(
    st.builds(lambda s, v: f"v{s}={v}", st.integers(0, 3), st.integers(0, 999)),
    st.builds(lambda k: f"[S_{k}]", st.integers(0, 199)),
    st.sampled_from(COCO_CLASS_NAMES),
)
"""Words that are single added tokens of the 4M vocabulary."""


def test_fixture_file_is_the_one_the_goldens_were_made_with(official_path, shared_dir):
    manifest = json.loads((shared_dir / "fixtures" / "tokenizers" / "manifest.json").read_text())
    expected = manifest["files"]["text_tokenizer_4m_wordpiece_30k.json"]["sha256"]
    assert hashlib.sha256(official_path.read_bytes()).hexdigest() == expected


def test_token_ids_equal_the_reference_goldens(official, golden):
    assert golden["token_ids"], "the manifest lists no tokenised strings"
    for name, expected in golden["token_ids"].items():
        text = name.split(":", 1)[1] if name.startswith("caption:") else golden[name]
        assert official.tokenize(text) == expected, name


def test_special_ids_equal_the_reference_goldens(official, golden):
    for token, expected in golden["special_ids"].items():
        assert official.token_to_id(token) == expected, token


def test_special_ids_agree_with_core_special_tokens(official):
    ids = official.special
    assert (ids.pad, ids.unk, ids.sos, ids.eos) == (special_tokens.PAD_ID, special_tokens.UNK_ID,
                                                   special_tokens.SOS_ID, special_tokens.EOS_ID)
    assert (official.token_to_id("[PAD]"), official.token_to_id("[EOS]")) == (special_tokens.PAD_ID,
                                                                              special_tokens.EOS_ID)
    assert len(ids.sentinels) == special_tokens.NUM_SENTINELS
    for k in range(special_tokens.NUM_SENTINELS):
        assert ids.sentinel(k) == special_tokens.sentinel_id(k) == official.token_to_id(f"[S_{k}]")


def test_value_and_class_tokens_follow_the_section_1_5_table(official):
    assert official.vocab_size == 30000
    for slot in range(4):
        for value in (0, 1, 500, 999):
            assert official.special.value(slot, value) == official.token_to_id(f"v{slot}={value}")
            assert official.special.value(slot, value) == 204 + 1000 * slot + value
    assert list(COCO_CLASS_NAMES) == sorted(COCO_CLASS_NAMES) and len(COCO_CLASS_NAMES) == 80
    assert [official.special.class_names[n] for n in COCO_CLASS_NAMES] == list(range(4204, 4284))
    assert [t.content for t in special_tokens_layout()] == [official.id_to_token(i) for i in range(4284)]


def test_out_of_range_special_lookups_name_the_bad_value(official):
    with pytest.raises(TextTokenizerError, match="v4=0"):
        official.special.value(4, 0)
    with pytest.raises(TextTokenizerError, match="got 200"):
        official.special.sentinel(200)


def test_no_sos_or_eos_is_added_and_class_names_are_normalised(official):
    assert official.tokenize("Dining Table") == [official.special.class_names["dining table"]]
    assert official.tokenize("") == []


@given(st.lists(STRUCTURED_WORDS, min_size=1, max_size=30))
def test_structured_words_are_single_tokens_and_round_trip(official, words):
    text = " ".join(words)
    ids = official.tokenize(text)
    assert ids == [official.token_to_id(word) for word in words]
    assert all(4 <= i < 4284 for i in ids)
    assert official.detokenize(ids) == text


def test_detokenize_stops_at_eos_and_drops_padding(official):
    ids = official.tokenize("a man with a dog [S_1]")
    assert official.detokenize([*ids, special_tokens.EOS_ID, *ids]) == "a man with a dog [S_1]"
    assert official.detokenize([special_tokens.PAD_ID, *ids, special_tokens.PAD_ID]) == "a man with a dog [S_1]"


def test_detokenize_accepts_anything_with_tolist(official):
    class FakeTensor:
        def tolist(self):
            return official.tokenize("v0=1 zebra")

    assert official.detokenize(FakeTensor()) == "v0=1 zebra"


def test_bad_inputs_are_named(official):
    with pytest.raises(TextTokenizerError, match="must be a str, got int"):
        official.tokenize(3)
    with pytest.raises(TextTokenizerError, match=r"\[0, 30000\), found \[30000\]"):
        official.detokenize([5, 30000])
    with pytest.raises(TextTokenizerError, match="input 1 must be a str"):
        official.tokenize_batch(["a", None])


def test_batch_tokenisation_matches_single(official, golden):
    texts = [golden["det_string"], golden["metadata_string"], "a man with a dog"]
    assert official.tokenize_batch(texts) == [official.tokenize(t) for t in texts]
