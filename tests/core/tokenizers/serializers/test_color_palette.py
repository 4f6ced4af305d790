"""``color_palette`` serialisation: ``v1=K`` then 3K rounded channels, and parsing back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.tokenizers.serializers import Color, ColorPalette, ColorPaletteSerializer, SerializationError

SERIALIZER = ColorPaletteSerializer()
channels = st.floats(0.0, 255.0)
palettes = st.builds(ColorPalette, colors=st.lists(st.builds(Color, r=channels, g=channels, b=channels),
                                                   min_size=1, max_size=7))


@given(palettes)
def test_layout_is_count_then_three_channels_per_colour(palette):
    words = SERIALIZER.serialize(palette).split()
    assert words[0] == f"v1={len(palette.colors)}"
    assert len(words) == 1 + 3 * len(palette.colors)
    assert all(w.startswith("v0=") for w in words[1:])


@given(palettes)
def test_round_trip_is_within_half_a_level(palette):
    text = SERIALIZER.serialize(palette)
    parsed = SERIALIZER.parse(text)
    for original, back in zip(palette.colors, parsed.colors, strict=True):
        for channel in "rgb":
            assert abs(getattr(original, channel) - getattr(back, channel)) <= 0.5
    assert SERIALIZER.serialize(parsed) == text


@pytest.mark.parametrize("count", [0, 8])
def test_palette_size_is_bounded(count):
    with pytest.raises(ValueError, match="colors"):
        ColorPalette(colors=[Color(r=0, g=0, b=0)] * count)


@pytest.mark.parametrize(("text", "message"), [
    ("v1=0", "colour count must be in 1..7, got 0"),
    ("v1=8", "colour count must be in 1..7, got 8"),
    ("v1=1 v0=1 v0=2", "expected a 'v0=' value word at word 3, found end of text"),
    ("v1=1 v0=1 v0=2 v0=3 v0=4", "expected the end of the text after 1 colours at word 4"),
    ("v1=1 v0=1 v0=256 v0=3", "channels must be in 0..255, got \\(1, 256, 3\\)"),
    ("v0=1", "expected a 'v1=' value word"),
])
def test_malformed_text_is_reported(text, message):
    with pytest.raises(SerializationError, match=message):
        SERIALIZER.parse(text)
