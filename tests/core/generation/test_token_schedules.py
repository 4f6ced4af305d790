"""Token-count schedules: reference goldens and the invariants of every schedule."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.generation.token_schedules import cosine_schedule, linear_schedule, token_counts

SCHEDULES = {"cosine_schedule": cosine_schedule, "linear_schedule": linear_schedule}


def test_matches_every_reference_golden(manifest):
    checked = 0
    for name, expected in manifest["pure"].items():
        call = re.fullmatch(r"(cosine_schedule|linear_schedule)\((\d+),(\d+)\)", name)
        if call:
            assert SCHEDULES[call[1]](int(call[2]), int(call[3])) == expected, name
            checked += 1
    assert checked >= 6


@given(steps=st.integers(1, 300), n=st.integers(1, 2000))
def test_linear_sums_to_n_descending_without_zeros(steps, n):
    counts = linear_schedule(steps, n)
    assert sum(counts) == n
    assert counts == sorted(counts, reverse=True)
    assert min(counts) >= 1
    assert len(counts) == min(steps, n)
    assert max(counts) - min(counts) <= 1


@given(steps=st.integers(1, 300), n=st.integers(1, 2000))
def test_linear_equals_numpy_linspace_cast(steps, n):
    counts = sorted(np.diff(np.linspace(0, n, steps + 1).astype(int)).tolist(), reverse=True)
    assert linear_schedule(steps, n) == [c for c in counts if c]


@given(n=st.integers(1, 2000), data=st.data())
def test_cosine_has_one_count_per_step_summing_to_n(n, data):
    steps = data.draw(st.integers(1, min(n, 64)))
    try:
        counts = cosine_schedule(steps, n)
    except ValueError as exc:  # too many steps for n: rounding overshoots
        assert "negative last step" in str(exc) and steps > 1
        return
    assert len(counts) == steps and sum(counts) == n and min(counts) >= 0


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="steps must be >= 1, found 0"):
        linear_schedule(0, 10)
    with pytest.raises(ValueError, match="9 steps exceed the 4 tokens"):
        cosine_schedule(9, 4)
    with pytest.raises(ValueError, match="unknown token schedule 'cos': expected one of cosine, linear"):
        token_counts("cos", 2, 4)
