"""Merging predicted spans into their input sequence."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.generation.span_merge import merge_spans, spans_of
from mm4m.core.special_tokens import EOS_ID, sentinel_id

S1, S2, S3 = sentinel_id(1), sentinel_id(2), sentinel_id(3)
words = st.lists(st.integers(204, 30000), max_size=8)
non_empty_words = st.lists(st.integers(204, 30000), min_size=1, max_size=8)


@given(span=words)
def test_empty_input_takes_the_first_span(span):
    assert merge_spans([], [S1, *span, S2, 999]) == span
    assert merge_spans([S1], [S1, *span]) == span


@given(before=words, after=words, first=words, second=words)
def test_each_sentinel_is_replaced_by_its_own_span(before, after, first, second):
    merged = merge_spans([*before, S1, *after, S2], [S1, *first, S2, *second, EOS_ID, 7, 8])
    assert merged == [*before, *first, *after, *second]


@given(span=words, tail=words)
def test_reading_stops_at_eos(span, tail):
    assert spans_of([S1, *span, EOS_ID, *tail]) == {S1: span}


@given(inputs=non_empty_words)
def test_inputs_without_sentinels_are_unchanged(inputs):
    assert merge_spans(inputs, [S1, 1000, S2]) == inputs


def test_a_repeated_sentinel_keeps_its_first_span():
    assert spans_of([S1, 300, S1, 400, S3, 500]) == {S1: [300], S3: [500]}
