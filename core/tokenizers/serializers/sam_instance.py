"""SAM instances as 4M text: query points, each followed by the instances containing it (spec §1.6).

Per point: ``point v0=<y> v1=<x>``, then for each instance containing the point ``polygon`` + its box
(``v0= v1= v2= v3=``, normalised ×999) + the 16 codes of its mask tokenizer, or ``none`` if no instance does.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field

from mm4m.core.tokenizers.serializers.base import SerializationError, TextSerializer
from mm4m.core.tokenizers.serializers.quantization import (
    CODEBOOK_SIZE,
    BoundingBox,
    WordReader,
    code_word,
    value_word,
)

POINT, INSTANCE, NO_INSTANCE = "point", "polygon", "none"
IMAGE_SIZE = 224
"""Query points are pixel positions in [0, 224)."""
NUM_POINTS = 7
"""Query points drawn per image during training."""
MASK_TOKENS = 16

Code = Annotated[int, Field(ge=0, lt=CODEBOOK_SIZE)]
Pixel = Annotated[int, Field(ge=0, lt=IMAGE_SIZE)]


class SamInstance(BaseModel):
    """One SAM instance: its normalised box and the 16 codes of its 64×64 mask."""

    model_config = ConfigDict(frozen=True)

    box: BoundingBox
    mask_codes: list[Code] = Field(min_length=MASK_TOKENS, max_length=MASK_TOKENS)


class SamQuery(BaseModel):
    """A query point (pixels) and the instances that contain it."""

    model_config = ConfigDict(frozen=True)

    x: Pixel
    y: Pixel
    instances: list[SamInstance] = Field(default_factory=list)


class SamInstances(BaseModel):
    """The query points of one image, in serialisation order."""

    model_config = ConfigDict(frozen=True)

    queries: list[SamQuery] = Field(default_factory=list)


class PixelMask(Protocol):
    """A 2-D boolean mask indexable as ``mask[y][x]`` (a numpy array or nested lists)."""

    def __getitem__(self, row: int) -> Sequence[bool]: ...


def draw_queries(instances: Sequence[SamInstance], masks: Sequence[PixelMask], rng: random.Random, *,
                 num_points: int = NUM_POINTS, image_size: int = IMAGE_SIZE) -> SamInstances:
    """Draw ``num_points`` random pixels and attach every instance whose ``image_size``² mask contains each."""
    if len(instances) != len(masks):
        raise SerializationError(f"sam_instance needs one mask per instance, got {len(masks)} masks for "
                                 f"{len(instances)} instances")
    if not 0 < image_size <= IMAGE_SIZE:
        raise SerializationError(f"sam_instance image size must be in 1..{IMAGE_SIZE}, got {image_size}")
    queries = []
    for _ in range(num_points):
        x, y = rng.randrange(image_size), rng.randrange(image_size)
        inside = [inst for inst, mask in zip(instances, masks, strict=True) if mask[y][x]]
        queries.append(SamQuery(x=x, y=y, instances=inside))
    return SamInstances(queries=queries)


class SamInstanceSerializer(TextSerializer[SamInstances]):
    """``sam_instance``: ``rng`` shuffles the points and, per point, its instances."""

    modality = "sam_instance"
    record_type = SamInstances

    def chunks(self, record: SamInstances, rng: random.Random | None = None) -> list[str]:
        words = []
        queries = list(self.validate(record).queries)
        if rng is not None:
            rng.shuffle(queries)
        for query in queries:
            words += [POINT, value_word(0, query.y), value_word(1, query.x)]
            instances = list(query.instances)
            if rng is not None:
                rng.shuffle(instances)
            for instance in instances:
                words += [INSTANCE, *instance.box.words(), *(code_word(c) for c in instance.mask_codes)]
            if not instances:
                words.append(NO_INSTANCE)
        return [" ".join(words)]

    def parse(self, text: str) -> SamInstances:
        reader = WordReader(text, self.modality)
        queries = []
        while not reader.done():
            reader.literal(POINT)
            y, x = reader.value(0), reader.value(1)
            if max(x, y) >= IMAGE_SIZE:
                raise SerializationError(f"sam_instance text: point must lie in [0, {IMAGE_SIZE}), got x={x} y={y}")
            instances = []
            if reader.peek() == NO_INSTANCE:
                reader.take()
            else:
                reader.literal(INSTANCE)
                instances.append(self._instance(reader))
                while reader.peek() == INSTANCE:
                    reader.take()
                    instances.append(self._instance(reader))
            queries.append(SamQuery(x=x, y=y, instances=instances))
        return SamInstances(queries=queries)

    @staticmethod
    def _instance(reader: WordReader) -> SamInstance:
        box = reader.box()
        return SamInstance(box=box, mask_codes=[reader.code() for _ in range(MASK_TOKENS)])
