"""Shared quantisation helpers: value words, codebook words, unit coordinates and the word reader."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.tokenizers.serializers import BoundingBox, SerializationError
from mm4m.core.tokenizers.serializers.quantization import (
    WordReader,
    affine_dequantize,
    affine_quantize,
    code_word,
    dequantize_unit,
    parse_value_word,
    quantize_unit,
    value_word,
)


def test_every_codebook_id_is_one_word_that_reads_back():
    words = [code_word(c) for c in range(1024)]
    assert words[0] == "v0=0" and words[511] == "v0=511" and words[512] == "v1=0" and words[1023] == "v1=511"
    reader = WordReader(" ".join(words), "test")
    assert [reader.code() for _ in range(1024)] == list(range(1024))
    assert reader.done()


@given(st.integers(0, 3), st.integers(0, 999))
def test_value_words_parse_back(slot, value):
    assert parse_value_word(value_word(slot, value)) == (slot, value)


@pytest.mark.parametrize("word", ["v4=1", "v0=1000", "v0=", "v0=-1", "x0=1", "v0=1a", "dog"])
def test_non_value_words_are_not_parsed(word):
    assert parse_value_word(word) is None


@pytest.mark.parametrize(("slot", "value"), [(-1, 0), (4, 0), (0, -1), (0, 1000)])
def test_value_words_outside_the_vocabulary_are_refused(slot, value):
    with pytest.raises(SerializationError, match=f"got v{slot}={value}"):
        value_word(slot, value)


@pytest.mark.parametrize("code", [-1, 1024])
def test_codes_outside_the_codebook_are_refused(code):
    with pytest.raises(SerializationError, match=f"0..1023, got {code}"):
        code_word(code)


@given(st.floats(0.0, 1.0))
def test_unit_quantisation_is_within_half_a_step(x):
    q = quantize_unit(x)
    assert 0 <= q <= 999
    assert abs(dequantize_unit(q) - x) <= 0.5 / 999 + 1e-12
    assert quantize_unit(dequantize_unit(q)) == q


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_unit_quantisation_is_monotone(a, b):
    low, high = sorted((a, b))
    assert quantize_unit(low) <= quantize_unit(high)


@given(st.floats(-10.0, 10.0), st.sampled_from([(499.5, 499.5), (166.5, 499.5), (49.95, 49.95)]))
def test_affine_quantisation_saturates_and_inverts_inside_its_range(x, coding):
    scale, offset = coding
    q = affine_quantize(x, scale, offset)
    assert 0 <= q <= 999
    low, high = affine_dequantize(0, scale, offset), affine_dequantize(999, scale, offset)
    if low <= x <= high:
        assert abs(affine_dequantize(q, scale, offset) - x) <= 0.5 / scale + 1e-9
    assert affine_quantize(affine_dequantize(q, scale, offset), scale, offset) == q


def test_boxes_need_ordered_corners_inside_the_unit_square():
    with pytest.raises(ValueError, match="xmin <= xmax"):
        BoundingBox(xmin=0.6, ymin=0.0, xmax=0.5, ymax=1.0)
    with pytest.raises(ValueError, match="less than or equal to 1"):
        BoundingBox(xmin=0.0, ymin=0.0, xmax=1.5, ymax=1.0)


def test_reader_errors_name_position_expectation_and_found_word():
    reader = WordReader("v0=1 dog", "det")
    assert reader.value(0) == 1
    with pytest.raises(SerializationError, match=r"det text: expected a 'v1=' value word at word 1, found 'dog'"):
        reader.value(1)
    reader.take()
    with pytest.raises(SerializationError, match="found end of text"):
        reader.take()
    with pytest.raises(SerializationError, match="must be a str, got bytes"):
        WordReader(b"v0=1", "det")


def test_reader_refuses_swapped_box_corners():
    with pytest.raises(SerializationError, match="corners swapped"):
        WordReader("v0=600 v1=0 v2=500 v3=999", "det").box()
