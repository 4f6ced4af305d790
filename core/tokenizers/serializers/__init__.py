"""Structured modalities ↔ 4M text (spec §1.6): one serialiser per modality, each with its parser."""

from mm4m.core.tokenizers.serializers.base import SerializationError, TextSerializer
from mm4m.core.tokenizers.serializers.color_palette import Color, ColorPalette, ColorPaletteSerializer
from mm4m.core.tokenizers.serializers.det import Detection, Detections, DetectionSerializer, select_and_order
from mm4m.core.tokenizers.serializers.human_poses import HumanPose, HumanPoses, HumanPoseSerializer
from mm4m.core.tokenizers.serializers.metadata import Metadata, MetadataKey, MetadataSerializer
from mm4m.core.tokenizers.serializers.quantization import BoundingBox
from mm4m.core.tokenizers.serializers.sam_instance import (
    SamInstance,
    SamInstances,
    SamInstanceSerializer,
    SamQuery,
    draw_queries,
)
from mm4m.core.tokenizers.serializers.tokenizer import StructuredTextTokenizer

SERIALIZERS: dict[str, type[TextSerializer]] = {
    cls.modality: cls
    for cls in (DetectionSerializer, MetadataSerializer, ColorPaletteSerializer, HumanPoseSerializer,
                SamInstanceSerializer)
}
"""Serialiser class by modality key."""

__all__ = [
    "SERIALIZERS", "BoundingBox", "Color", "ColorPalette", "ColorPaletteSerializer", "Detection", "Detections",
    "DetectionSerializer", "HumanPose", "HumanPoseSerializer", "HumanPoses", "Metadata", "MetadataKey",
    "MetadataSerializer", "SamInstance", "SamInstanceSerializer", "SamInstances", "SamQuery", "SerializationError",
    "StructuredTextTokenizer", "TextSerializer", "draw_queries", "select_and_order",
]
