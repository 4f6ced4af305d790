"""The fixed vocabulary of synthetic scenes: primitive shapes, semantic classes and named object colours."""

from __future__ import annotations

from enum import IntEnum


class Shape(IntEnum):
    """Primitive shapes; the value is the shape's index in sampled layouts."""

    SPHERE = 0
    BOX = 1
    CYLINDER = 2

    @property
    def noun(self) -> str:
        """The word used in captions and as the ``det`` class name."""
        return self.name.lower()


GROUND_CLASS = 0
"""Semantic label (and instance id) of the ground plane, which fills every pixel no object covers."""

SEMANTIC_CLASS_NAMES: tuple[str, ...] = ("ground", *(shape.noun for shape in Shape))
"""Semantic label → class name: ``ground``, ``sphere``, ``box``, ``cylinder`` (a shape's label is its value + 1)."""

OBJECT_COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.15, 0.15),
    "orange": (0.95, 0.55, 0.10),
    "yellow": (0.95, 0.85, 0.15),
    "green": (0.20, 0.70, 0.25),
    "cyan": (0.15, 0.75, 0.80),
    "blue": (0.20, 0.35, 0.90),
    "purple": (0.55, 0.25, 0.75),
    "pink": (0.95, 0.50, 0.70),
    "brown": (0.50, 0.30, 0.15),
    "white": (0.95, 0.95, 0.95),
}
"""Colour name → linear RGB albedo in [0, 1]; objects take one of these, so captions can name them exactly."""

COLOUR_NAMES: tuple[str, ...] = tuple(OBJECT_COLOURS)
"""Colour names in index order (the colour index sampled for an object)."""

SMALL, LARGE = "small", "large"
"""Size words: an object is ``small`` when its size is below the middle of the configured size range."""
