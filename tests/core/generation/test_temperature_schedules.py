"""Temperature schedules: reference goldens (1e-12) and invariants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.generation.temperature_schedules import MIN_TEMPERATURE, TemperatureSchedule
from mm4m.core.generation.token_schedules import linear_schedule


def assert_close(found, expected):
    assert len(found) == len(expected)
    assert max(abs(a - b) for a, b in zip(found, expected)) <= 1e-12


def test_linear_golden(manifest):
    expected = manifest["pure"]["linear_temp_schedule(3.0,linear(8,196))"]
    assert_close(TemperatureSchedule.parse("linear").temperatures(3.0, linear_schedule(8, 196)), expected)


def test_onex_golden_including_step_index_quirk(manifest):
    expected = manifest["pure"]["onex_temp_schedule(6.0,0.5,linear(49,196),0.5)"]
    found = TemperatureSchedule.parse("onex:0.5:0.5").temperatures(6.0, linear_schedule(49, 196))
    assert_close(found, expected)


counts_strategy = st.lists(st.integers(1, 50), min_size=1, max_size=40)


@given(t=st.floats(0, 10), counts=counts_strategy)
def test_constant_repeats_the_temperature(t, counts):
    assert TemperatureSchedule.parse("constant").temperatures(t, counts) == [t] * len(counts)


@given(t=st.floats(0.01, 10), counts=counts_strategy)
def test_linear_starts_at_t_and_decreases(t, counts):
    temps = TemperatureSchedule.parse("linear").temperatures(t, counts)
    assert temps[0] == pytest.approx(t, rel=1e-15)
    assert all(a >= b for a, b in zip(temps, temps[1:]))
    assert min(temps) >= MIN_TEMPERATURE


@given(t=st.floats(0.5, 10), min_t=st.floats(0, 0.5), power=st.floats(0.1, 3), counts=counts_strategy)
def test_onex_stays_between_min_t_and_t_and_ends_at_min_t(t, min_t, power, counts):
    temps = TemperatureSchedule(kind="onex", min_temperature=min_t, power=power).temperatures(t, counts)
    assert len(temps) == len(counts)
    assert all(max(min_t, MIN_TEMPERATURE) - 1e-12 <= v <= t + 1e-12 for v in temps)
    assert abs(temps[-1] - max(min_t, MIN_TEMPERATURE)) <= 1e-12


@pytest.mark.parametrize("text", ["constant", "linear", "onex:0.5:0.5", "onex:0.0:2.0"])
def test_text_round_trips(text):
    schedule = TemperatureSchedule.parse(text)
    assert TemperatureSchedule.parse(str(schedule)) == schedule


@pytest.mark.parametrize("text, message", [
    ("cosine", "unknown temperature schedule 'cosine'"),
    ("onex:0.5", "unknown temperature schedule 'onex:0.5'"),
    ("onex:a:1", "min_t and power must be numbers"),
])
def test_bad_text_is_named(text, message):
    with pytest.raises(ValueError, match=message):
        TemperatureSchedule.parse(text)
