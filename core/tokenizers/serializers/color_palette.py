"""Colour palettes as 4M text: ``v1=K`` then the 3K channel values as ``v0=`` words (spec §1.6)."""

from __future__ import annotations

import random
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from mm4m.core.tokenizers.serializers.base import SerializationError, TextSerializer
from mm4m.core.tokenizers.serializers.quantization import WordReader, value_word

MAX_COLORS = 7
"""Palettes hold 1 … 7 colours."""
Channel = Annotated[float, Field(ge=0.0, le=255.0)]
"""A colour channel value."""


class Color(BaseModel):
    """One RGB colour, channels in [0, 255] (written rounded to integers)."""

    model_config = ConfigDict(frozen=True)

    r: Channel
    g: Channel
    b: Channel


class ColorPalette(BaseModel):
    """The K dominant colours of an image."""

    model_config = ConfigDict(frozen=True)

    colors: list[Color] = Field(min_length=1, max_length=MAX_COLORS)


class ColorPaletteSerializer(TextSerializer[ColorPalette]):
    """``color_palette``: ``v1=K`` followed by ``v0=<channel>`` for r, g, b of each colour in order."""

    modality = "color_palette"
    record_type = ColorPalette

    def chunks(self, record: ColorPalette, rng: random.Random | None = None) -> list[str]:
        """One chunk (``rng`` is unused: the palette order is the record's)."""
        palette = self.validate(record)
        words = [value_word(1, len(palette.colors))]
        words += [value_word(0, round(channel)) for c in palette.colors for channel in (c.r, c.g, c.b)]
        return [" ".join(words)]

    def parse(self, text: str) -> ColorPalette:
        reader = WordReader(text, self.modality)
        count = reader.value(1)
        if not 1 <= count <= MAX_COLORS:
            raise SerializationError(f"color_palette text: colour count must be in 1..{MAX_COLORS}, got {count}")
        colors = []
        for _ in range(count):
            r, g, b = (reader.value(0) for _ in range(3))
            if max(r, g, b) > 255:
                raise SerializationError(f"color_palette text: channels must be in 0..255, got ({r}, {g}, {b})")
            colors.append(Color(r=r, g=g, b=b))
        if not reader.done():
            raise reader.error(f"the end of the text after {count} colours")
        return ColorPalette(colors=colors)
