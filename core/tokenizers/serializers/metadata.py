"""Image metadata as 4M text: one ``v1=<type id> v0=<bin>`` chunk per value (spec §1.6, ``metadata``)."""

from __future__ import annotations

import bisect
import random
from abc import ABC, abstractmethod
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat

from mm4m.core.tokenizers.serializers.base import SerializationError, TextSerializer
from mm4m.core.tokenizers.serializers.quantization import MAX_VALUE, WordReader, value_word


class MetadataKey(StrEnum):
    """The 21 metadata types; the member order is the type id written after ``v1=``."""

    ORIGINAL_WIDTH = "original_width"
    ORIGINAL_HEIGHT = "original_height"
    CAPTION_N_CHARS = "caption_n_chars"
    CAPTION_N_WORDS = "caption_n_words"
    CAPTION_N_SENTENCES = "caption_n_sentences"
    N_HUMANS = "n_humans"
    N_SAM_INSTANCES = "n_sam_instances"
    N_COCO_INSTANCES = "n_coco_instances"
    COCO_INSTANCE_DIVERSITY = "coco_instance_diversity"
    COLORFULNESS = "colorfulness"
    BRIGHTNESS = "brightness"
    CONTRAST = "contrast"
    SATURATION = "saturation"
    ENTROPY = "entropy"
    WALKABILITY = "walkability"
    OBJECTNESS = "objectness"
    SEMANTIC_DIVERSITY = "semantic_diversity"
    GEOMETRIC_COMPLEXITY = "geometric_complexity"
    OCCLUSION_SCORE = "occlusion_score"
    WATERMARK_SCORE = "watermark_score"
    AESTHETIC_SCORE = "aesthetic_score"

    @property
    def type_id(self) -> int:
        """The id written as ``v1=<type id>``."""
        return _TYPE_IDS[self]


_TYPE_IDS = {key: index for index, key in enumerate(MetadataKey)}


class ValueBinning(ABC):
    """How one metadata value becomes an integer bin, and which value stands for a bin when parsing back."""

    @abstractmethod
    def quantize(self, value: float) -> int:
        """The bin of ``value``."""

    @abstractmethod
    def dequantize(self, bin_index: int) -> float:
        """A value whose bin is ``bin_index`` (its centre where the bin is bounded)."""

    @property
    @abstractmethod
    def num_bins(self) -> int:
        """Bins are 0 … num_bins − 1."""


class SizeBinning(ValueBinning):
    """Image sizes in pixels: ``size // 32`` clamped to 0..999."""

    step = 32

    def quantize(self, value: float) -> int:
        return min(max(int(value // self.step), 0), MAX_VALUE)

    def dequantize(self, bin_index: int) -> float:
        return bin_index * self.step + self.step / 2

    @property
    def num_bins(self) -> int:
        return MAX_VALUE + 1


class CountBinning(ValueBinning):
    """Integer counts, clamped to 0..999 (fractions are truncated)."""

    def quantize(self, value: float) -> int:
        return min(max(int(value), 0), MAX_VALUE)

    def dequantize(self, bin_index: int) -> float:
        return float(bin_index)

    @property
    def num_bins(self) -> int:
        return MAX_VALUE + 1


class ThresholdBinning(ValueBinning):
    """Bins split at ascending thresholds; a value equal to a threshold falls in the upper bin."""

    def __init__(self, thresholds: tuple[float, ...], representatives: tuple[float, ...]):
        self.thresholds = thresholds
        self.representatives = representatives

    def quantize(self, value: float) -> int:
        return bisect.bisect_right(self.thresholds, value)

    def dequantize(self, bin_index: int) -> float:
        return self.representatives[bin_index]

    @property
    def num_bins(self) -> int:
        return len(self.thresholds) + 1


class RangeBinning(ValueBinning):
    """``int((clip(v, lo, hi) − lo) / (hi − lo) · 49)``: 49 equal bins plus bin 49 for exactly ``hi``."""

    steps = 49

    def __init__(self, low: float, high: float):
        self.low, self.high = low, high

    def quantize(self, value: float) -> int:
        clipped = min(max(value, self.low), self.high)
        return int((clipped - self.low) / (self.high - self.low) * self.steps)

    def dequantize(self, bin_index: int) -> float:
        if bin_index == self.steps:
            return self.high
        return self.low + (bin_index + 0.5) / self.steps * (self.high - self.low)

    @property
    def num_bins(self) -> int:
        return self.steps + 1


_SIZE, _COUNT = SizeBinning(), CountBinning()
BINNINGS: dict[MetadataKey, ValueBinning] = {
    MetadataKey.ORIGINAL_WIDTH: _SIZE,
    MetadataKey.ORIGINAL_HEIGHT: _SIZE,
    MetadataKey.CAPTION_N_CHARS: _COUNT,
    MetadataKey.CAPTION_N_WORDS: _COUNT,
    MetadataKey.CAPTION_N_SENTENCES: _COUNT,
    MetadataKey.N_HUMANS: _COUNT,
    MetadataKey.N_SAM_INSTANCES: _COUNT,
    MetadataKey.N_COCO_INSTANCES: _COUNT,
    MetadataKey.COCO_INSTANCE_DIVERSITY: _COUNT,
    MetadataKey.COLORFULNESS: RangeBinning(0, 150),
    MetadataKey.BRIGHTNESS: RangeBinning(0, 255),
    MetadataKey.CONTRAST: RangeBinning(0, 127),
    MetadataKey.SATURATION: RangeBinning(0, 255),
    MetadataKey.ENTROPY: RangeBinning(0, 10),
    MetadataKey.WALKABILITY: RangeBinning(0, 1),
    MetadataKey.OBJECTNESS: RangeBinning(0, 1),
    MetadataKey.SEMANTIC_DIVERSITY: _COUNT,
    MetadataKey.GEOMETRIC_COMPLEXITY: RangeBinning(0, 0.75),
    MetadataKey.OCCLUSION_SCORE: RangeBinning(0, 0.25),
    MetadataKey.WATERMARK_SCORE: ThresholdBinning((0.5,), (0.25, 0.75)),
    MetadataKey.AESTHETIC_SCORE: ThresholdBinning((4.5, 5.5), (4.0, 5.0, 6.0)),
}
"""The quantisation of every metadata type (spec §1.6)."""


class Metadata(BaseModel):
    """Named metadata values of one image; the dict order is the serialisation order when not shuffled."""

    model_config = ConfigDict(frozen=True)

    values: dict[MetadataKey, FiniteFloat] = Field(default_factory=dict)


class MetadataSerializer(TextSerializer[Metadata]):
    """``metadata``: each present value becomes its own chunk ``v1=<type id> v0=<bin>``; ``rng`` shuffles them."""

    modality = "metadata"
    record_type = Metadata

    def chunks(self, record: Metadata, rng: random.Random | None = None) -> list[str]:
        items = list(self.validate(record).values.items())
        if rng is not None:
            rng.shuffle(items)
        return [f"{value_word(1, key.type_id)} {value_word(0, BINNINGS[key].quantize(value))}"
                for key, value in items]

    def parse(self, text: str) -> Metadata:
        """Values at the centres of their bins, in text order; repeated or unknown types are errors."""
        keys = list(MetadataKey)
        reader = WordReader(text, self.modality)
        values: dict[MetadataKey, float] = {}
        while not reader.done():
            type_id = reader.value(1)
            if type_id >= len(keys):
                raise SerializationError(f"metadata text: type id must be in 0..{len(keys) - 1}, got {type_id}")
            key = keys[type_id]
            if key in values:
                raise SerializationError(f"metadata text: {key.value} (type id {type_id}) appears twice")
            binning = BINNINGS[key]
            bin_index = reader.value(0)
            if bin_index >= binning.num_bins:
                raise SerializationError(f"metadata text: {key.value} bin must be in 0..{binning.num_bins - 1}, "
                                         f"got {bin_index}")
            values[key] = binning.dequantize(bin_index)
        return Metadata(values=values)
