"""Object detections as 4M text: ``v0=X1 v1=Y1 v2=X2 v3=Y2 <class name>`` per box (spec §1.6, ``det``)."""

from __future__ import annotations

import random

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mm4m.core.tokenizers.serializers.base import SerializationError, TextSerializer
from mm4m.core.tokenizers.serializers.quantization import BoundingBox, WordReader, parse_value_word

SCORE_THRESHOLD = 0.6
"""Instances scoring below this are not serialised."""


class Detection(BaseModel):
    """One detected instance: a normalised box, its class name and (for pseudo-labels) its score."""

    model_config = ConfigDict(frozen=True)

    box: BoundingBox
    class_name: str = Field(description="Lower-case class name; COCO names are single vocabulary tokens.")
    score: float | None = Field(default=None, description="Detector confidence; None for ground truth.")

    @field_validator("class_name")
    def _one_phrase(cls, name: str) -> str:
        words = name.split()
        if not words or " ".join(words) != name or any(parse_value_word(w) for w in words):
            raise ValueError(f"class name must be non-empty words separated by single spaces and contain no "
                             f"'vN=' value word, got {name!r}")
        return name


class Detections(BaseModel):
    """The detections of one image, in serialisation order."""

    model_config = ConfigDict(frozen=True)

    instances: list[Detection] = Field(default_factory=list)


def select_and_order(detections: Detections, score_threshold: float = SCORE_THRESHOLD) -> Detections:
    """Keep instances scoring at least ``score_threshold`` and order them by ``xmin² + ymin²`` (stable)."""
    kept = [d for d in detections.instances if d.score is None or d.score >= score_threshold]
    kept.sort(key=lambda d: d.box.xmin**2 + d.box.ymin**2)
    return Detections(instances=kept)


class DetectionSerializer(TextSerializer[Detections]):
    """``det``: filters by score, orders by top-left corner distance, writes each box then its class name.

    ``format`` writes instances in the order given; ``chunks`` applies the reference's selection and order first.
    """

    modality = "det"
    record_type = Detections

    def __init__(self, score_threshold: float = SCORE_THRESHOLD):
        if not 0.0 <= score_threshold <= 1.0:
            raise SerializationError(f"det score threshold must be in [0, 1], got {score_threshold}")
        self.score_threshold = score_threshold

    def format(self, detections: Detections) -> str:
        """The text of ``detections`` in their given order (no filtering or sorting)."""
        detections = self.validate(detections)
        return " ".join(" ".join([*d.box.words(), d.class_name]) for d in detections.instances)

    def chunks(self, record: Detections, rng: random.Random | None = None) -> list[str]:
        """One chunk: the selected, ordered boxes (``rng`` is unused: the order is deterministic)."""
        return [self.format(select_and_order(self.validate(record), self.score_threshold))]

    def parse(self, text: str) -> Detections:
        """Boxes and class names (class names run until the next ``v0=`` word); scores are unknown (None)."""
        reader = WordReader(text, self.modality)
        instances = []
        while not reader.done():
            box = reader.box()
            name = []
            while not reader.done() and parse_value_word(reader.peek()) is None:
                name.append(reader.take())
            if not name:
                raise reader.error("a class name")
            instances.append(Detection(box=box, class_name=" ".join(name)))
        return Detections(instances=instances)

