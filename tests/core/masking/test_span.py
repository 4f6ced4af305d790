"""Span masking details: merging, chunks kept whole, and the sentinel limit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.masking import MaskingError, merge_span_masking
from mm4m.core.masking.inputs import pack_token_sequences
from mm4m.core.masking.span import span_mask
from mm4m.core.special_tokens import EOS_ID, sentinel_id
from mm4m.core.spec import ModalityKind
from mm4m.testing.strategies import chunked_sequences, modality_specs

from .helpers import text_spec

S1, S2, S3 = sentinel_id(1), sentinel_id(2), sentinel_id(3)


def test_merge_replaces_each_sentinel_by_its_span():
    assert merge_span_masking([300, S1, 302, S2], [S1, 301, S2, 303, EOS_ID, S3]) == [300, 301, 302, 303, EOS_ID]
    assert merge_span_masking([], [S1, 300, S2]) == []


def test_eos_is_appended_and_long_sequences_truncated():
    spec = text_spec(max_tokens=8)
    packed = pack_token_sequences(spec, [[300] * (spec.max_tokens + 5), [301]])
    assert packed.sample(0) == [300] * spec.max_tokens
    assert packed.sample(1) == [301, EOS_ID][: spec.max_tokens]


@given(modality_specs(kinds=[ModalityKind.TEXT_SEQUENCE]).flatmap(
    lambda spec: st.tuples(st.just(spec), st.lists(chunked_sequences(spec), min_size=1, max_size=3))),
    st.integers(0, 2**31))
def test_chunks_are_kept_or_dropped_whole(spec_and_data, seed):
    spec, data = spec_and_data
    packed = pack_token_sequences(spec, data)
    rng = np.random.default_rng(seed)
    size = len(data)
    budget = np.full(size, spec.max_tokens)
    spans = span_mask(rng, packed, rng.random(size), budget, 2 * budget + 2, key=spec.key)
    for b in range(size):
        codes = spans.input_codes[b, : spans.input_lengths[b]]
        kept_positions = codes[codes >= 0]
        units = packed.units[b]
        for unit in np.unique(units[kept_positions]):
            members = np.flatnonzero(units[: packed.lengths[b]] == unit)
            assert set(members) <= set(kept_positions), f"chunk {unit} kept partially"


def test_too_many_runs_for_the_sentinels_is_an_error():
    long_spec = text_spec(key="long_text", max_tokens=1000)
    packed = pack_token_sequences(long_spec, [[300] * 999])
    rng = np.random.default_rng(0)  # keep 0.5 over 1000 tokens gives ~250 runs, more than 199 sentinels
    with pytest.raises(MaskingError, match=r"modality 'long_text': span masking needs \d+ sentinels"):
        span_mask(rng, packed, np.array([0.5]), np.array([1000]), np.array([10]), key=long_spec.key)
