"""``metadata`` serialisation: type ids, per-type binning, one chunk per item, seeded shuffling, parsing."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.tokenizers.serializers import Metadata, MetadataKey, MetadataSerializer, SerializationError
from mm4m.core.tokenizers.serializers.metadata import (
    BINNINGS,
    CountBinning,
    RangeBinning,
    SizeBinning,
    ThresholdBinning,
)

SERIALIZER = MetadataSerializer()


def value_for(key: MetadataKey) -> st.SearchStrategy[float]:
    """Values a metadata type can take, including some outside its coded range."""
    binning = BINNINGS[key]
    if isinstance(binning, SizeBinning):
        return st.integers(0, 40000).map(float)
    if isinstance(binning, CountBinning):
        return st.integers(0, 1500).map(float)
    if isinstance(binning, RangeBinning):
        span = binning.high - binning.low
        return st.floats(binning.low - span / 4, binning.high + span / 4)
    return st.floats(0.0, 10.0)


@st.composite
def records(draw) -> Metadata:
    keys = draw(st.lists(st.sampled_from(list(MetadataKey)), unique=True, max_size=len(MetadataKey)))
    return Metadata(values={key: draw(value_for(key)) for key in keys})


def test_type_ids_are_the_spec_order():
    assert MetadataKey.ORIGINAL_WIDTH.type_id == 0
    assert MetadataKey.COLORFULNESS.type_id == 9
    assert MetadataKey.SEMANTIC_DIVERSITY.type_id == 16
    assert MetadataKey.AESTHETIC_SCORE.type_id == 20
    assert len(MetadataKey) == 21 and set(BINNINGS) == set(MetadataKey)


@given(records())
def test_one_two_word_chunk_per_item_in_record_order(record):
    chunks = SERIALIZER.chunks(record)
    assert len(chunks) == len(record.values)
    for chunk, key in zip(chunks, record.values, strict=True):
        type_word, value_word = chunk.split()
        assert type_word == f"v1={key.type_id}" and value_word.startswith("v0=")


@given(records())
def test_parsing_returns_values_in_the_same_bins(record):
    text = SERIALIZER.serialize(record)
    parsed = SERIALIZER.parse(text)
    assert list(parsed.values) == list(record.values)
    for key, value in record.values.items():
        binning = BINNINGS[key]
        assert binning.quantize(parsed.values[key]) == binning.quantize(value)
    assert SERIALIZER.serialize(parsed) == text


@given(records())
def test_bounded_bins_are_within_one_bin_width(record):
    parsed = SERIALIZER.parse(SERIALIZER.serialize(record))
    for key, value in record.values.items():
        binning, back = BINNINGS[key], parsed.values[key]
        if isinstance(binning, RangeBinning):
            clipped = min(max(value, binning.low), binning.high)
            assert abs(back - clipped) <= (binning.high - binning.low) / 49
        elif isinstance(binning, SizeBinning) and value < 999 * 32:
            assert abs(back - value) <= 32
        elif isinstance(binning, CountBinning):
            assert back == min(value, 999)


@given(records(), st.integers(0, 2**32 - 1))
def test_shuffling_is_a_seeded_permutation_of_the_chunks(record, seed):
    shuffled = SERIALIZER.chunks(record, random.Random(seed))
    assert sorted(shuffled) == sorted(SERIALIZER.chunks(record))
    assert shuffled == SERIALIZER.chunks(record, random.Random(seed))
    assert SERIALIZER.parse(" ".join(shuffled)).values == SERIALIZER.parse(SERIALIZER.serialize(record)).values


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("original_width", 31, 0), ("original_width", 32, 1), ("original_height", 10**6, 999),
    ("n_humans", -3, 0), ("caption_n_chars", 5000, 999),
    ("watermark_score", 0.49, 0), ("watermark_score", 0.5, 1),
    ("aesthetic_score", 4.49, 0), ("aesthetic_score", 4.5, 1), ("aesthetic_score", 5.5, 2),
    ("brightness", 255, 49), ("brightness", 300, 49), ("brightness", -1, 0),
    ("occlusion_score", 0.125, 24), ("geometric_complexity", 0.75, 49),
])
def test_bin_edges(key, value, expected):
    assert SERIALIZER.serialize(Metadata(values={key: value})) == f"v1={MetadataKey(key).type_id} v0={expected}"


def test_threshold_binning_representatives_fall_in_their_bins():
    for binning in BINNINGS.values():
        if isinstance(binning, ThresholdBinning):
            assert [binning.quantize(binning.dequantize(b)) for b in range(binning.num_bins)] == list(
                range(binning.num_bins))


@pytest.mark.parametrize(("text", "message"), [
    ("v1=21 v0=0", "type id must be in 0..20, got 21"),
    ("v1=0 v0=3 v1=0 v0=4", "original_width \\(type id 0\\) appears twice"),
    ("v1=19 v0=2", "watermark_score bin must be in 0..1, got 2"),
    ("v1=9 v0=50", "colorfulness bin must be in 0..49, got 50"),
    ("v1=9", "expected a 'v0=' value word at word 1, found end of text"),
    ("v0=9 v1=1", "expected a 'v1=' value word at word 0"),
])
def test_malformed_text_is_reported(text, message):
    with pytest.raises(SerializationError, match=message):
        SERIALIZER.parse(text)


def test_unknown_keys_and_non_finite_values_are_refused():
    with pytest.raises(ValueError, match="original_width"):
        Metadata(values={"width": 3})
    with pytest.raises(ValueError, match="finite"):
        Metadata(values={"brightness": float("nan")})
