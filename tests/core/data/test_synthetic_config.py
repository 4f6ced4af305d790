"""Invalid synthetic-scene settings are rejected with messages naming the setting, the limit and the value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from mm4m.core.data.synthetic import CameraConfig, CannyConfig, SceneConfig, render_scenes


@given(st.integers(1, 5), st.data())
def test_more_objects_than_layout_cells_is_rejected(grid, data):
    too_many = data.draw(st.integers(grid * grid + 1, grid * grid + 10))
    with pytest.raises(ValidationError, match=f"max_objects must be ≤ layout_grid² = {grid * grid} .*found {too_many}"):
        SceneConfig(layout_grid=grid, max_objects=too_many)


@given(st.floats(0.1, 1.0), st.floats(0.01, 0.09))
def test_reversed_ranges_are_rejected(size, gap):
    with pytest.raises(ValidationError, match="min_size must be ≤ max_size"):
        SceneConfig(min_size=size + gap, max_size=size)
    with pytest.raises(ValidationError, match="min_objects must be ≤ max_objects, found 4 > 3"):
        SceneConfig(min_objects=4, max_objects=3)
    with pytest.raises(ValidationError, match="low_threshold must be ≤ high_threshold"):
        CannyConfig(low_threshold=gap + 0.01, high_threshold=gap)


def test_a_camera_that_would_see_the_sky_is_rejected():
    with pytest.raises(ValidationError, match=r"camera must see no sky.*found -2\.5°"):
        CameraConfig(height=1.0, distance=1.0, field_of_view_degrees=95.0)


def test_rendering_no_scene_or_a_negative_seed_is_rejected():
    with pytest.raises(ValueError, match="count must be ≥ 1, found 0"):
        render_scenes(0)
    with pytest.raises(ValueError, match="seed must be a non-negative integer, found -1"):
        render_scenes(1, seed=-1)
