"""Shared pieces of the 4M text serialisations: value words, unit/codebook quantisation, boxes, a word reader.

Rounding follows Python's ``round`` (half to even), which is also what torch and numpy do.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mm4m.core.tokenizers.serializers.base import SerializationError

NUM_SLOTS = 4
"""``v0=`` … ``v3=``."""
MAX_VALUE = 999
"""Largest integer a value word can hold."""
CODEBOOK_SIZE = 1024
"""Codebook of the SAM-mask and pose tokenizers; a code needs one word (``v0=c`` or ``v1=c-512``)."""
_HALF_CODEBOOK = CODEBOOK_SIZE // 2
_VALUE_WORD = re.compile(r"^v([0-9])=([0-9]+)$")


def value_word(slot: int, value: int) -> str:
    """``v{slot}={value}``, checking that it is a word of the vocabulary."""
    if not (0 <= slot < NUM_SLOTS and 0 <= value <= MAX_VALUE):
        raise SerializationError(f"value word needs slot in 0..{NUM_SLOTS - 1} and value in 0..{MAX_VALUE}, "
                                 f"got v{slot}={value}")
    return f"v{slot}={value}"


def parse_value_word(word: str) -> tuple[int, int] | None:
    """``(slot, value)`` of a value word, or None if ``word`` is not one."""
    match = _VALUE_WORD.match(word)
    if not match:
        return None
    slot, value = int(match.group(1)), int(match.group(2))
    return (slot, value) if slot < NUM_SLOTS and value <= MAX_VALUE else None


def quantize_unit(x: float) -> int:
    """A coordinate in [0, 1] as an integer in 0..999: ``round(x·999)``."""
    return round(x * MAX_VALUE)


def dequantize_unit(q: int) -> float:
    """The coordinate a quantised unit value stands for."""
    return q / MAX_VALUE


def affine_quantize(x: float, scale: float, offset: float) -> int:
    """``round(scale·x + offset)`` clamped to 0..999 (the pose parameter codings of spec §1.6)."""
    return min(max(round(scale * x + offset), 0), MAX_VALUE)


def affine_dequantize(q: int, scale: float, offset: float) -> float:
    """Inverse of ``affine_quantize`` at the bin centre."""
    return (q - offset) / scale


def code_word(code: int) -> str:
    """A 1024-codebook id as one word: ``v0=c`` if c < 512, else ``v1=c-512``."""
    if not 0 <= code < CODEBOOK_SIZE:
        raise SerializationError(f"codebook id must be in 0..{CODEBOOK_SIZE - 1}, got {code}")
    return value_word(0, code) if code < _HALF_CODEBOOK else value_word(1, code - _HALF_CODEBOOK)


class BoundingBox(BaseModel):
    """A box in coordinates normalised to [0, 1] of the (cropped) image."""

    model_config = ConfigDict(frozen=True)

    xmin: float = Field(ge=0.0, le=1.0)
    ymin: float = Field(ge=0.0, le=1.0)
    xmax: float = Field(ge=0.0, le=1.0)
    ymax: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> BoundingBox:
        if self.xmin > self.xmax or self.ymin > self.ymax:
            raise ValueError(f"box needs xmin <= xmax and ymin <= ymax, got ({self.xmin}, {self.ymin}, "
                             f"{self.xmax}, {self.ymax})")
        return self

    def words(self) -> list[str]:
        """``v0=X1 v1=Y1 v2=X2 v3=Y2`` with each coordinate quantised by ``round(c·999)``."""
        corners = (self.xmin, self.ymin, self.xmax, self.ymax)
        return [value_word(slot, quantize_unit(c)) for slot, c in enumerate(corners)]


class WordReader:
    """A cursor over the words of a serialised text, raising errors that name the position and the word."""

    def __init__(self, text: str, modality: str):
        if not isinstance(text, str):
            raise SerializationError(f"{modality} text must be a str, got {type(text).__name__}")
        self.words = text.split()
        self.position = 0
        self.modality = modality

    def done(self) -> bool:
        """True once every word has been consumed."""
        return self.position >= len(self.words)

    def peek(self) -> str | None:
        """The next word without consuming it (None at the end)."""
        return None if self.done() else self.words[self.position]

    def error(self, expected: str) -> SerializationError:
        """An error saying what was expected and what was found at the current position."""
        found = "end of text" if self.done() else repr(self.words[self.position])
        return SerializationError(f"{self.modality} text: expected {expected} at word {self.position}, found {found}")

    def take(self) -> str:
        """Consume and return the next word, whatever it is."""
        if self.done():
            raise self.error("another word")
        self.position += 1
        return self.words[self.position - 1]

    def literal(self, word: str) -> None:
        """Consume ``word`` exactly."""
        if self.peek() != word:
            raise self.error(repr(word))
        self.position += 1

    def value(self, slot: int) -> int:
        """Consume a ``v{slot}=n`` word and return n."""
        parsed = parse_value_word(self.peek() or "")
        if parsed is None or parsed[0] != slot:
            raise self.error(f"a 'v{slot}=' value word")
        self.position += 1
        return parsed[1]

    def code(self) -> int:
        """Consume one codebook word (``v0=c`` or ``v1=c-512``) and return the code."""
        parsed = parse_value_word(self.peek() or "")
        if parsed is None or parsed[0] > 1 or parsed[1] >= _HALF_CODEBOOK:
            raise self.error(f"a codebook word ('v0=' or 'v1=' with value < {_HALF_CODEBOOK})")
        self.position += 1
        return parsed[1] + _HALF_CODEBOOK * parsed[0]

    def box(self) -> BoundingBox:
        """Consume ``v0= v1= v2= v3=`` and return the box they quantise."""
        xmin, ymin, xmax, ymax = (dequantize_unit(self.value(slot)) for slot in range(NUM_SLOTS))
        if xmin > xmax or ymin > ymax:
            raise SerializationError(f"{self.modality} text: box before word {self.position} has its corners "
                                     f"swapped ({xmin:.3f}, {ymin:.3f}, {xmax:.3f}, {ymax:.3f})")
        return BoundingBox(xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax)
