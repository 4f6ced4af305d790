"""The reference's serialisation goldens (4m-golden manifest, ``pure``): strings and token ids match exactly."""

from __future__ import annotations

import json

import pytest

from mm4m.core.tokenizers.serializers import (
    ColorPalette,
    ColorPaletteSerializer,
    Detections,
    DetectionSerializer,
    Metadata,
    MetadataSerializer,
    StructuredTextTokenizer,
)
from mm4m.core.tokenizers.text import load_text_tokenizer


@pytest.fixture(scope="module")
def pure(shared_dir) -> dict:
    return json.loads((shared_dir / "fixtures" / "4m-golden" / "manifest.json").read_text())["pure"]


@pytest.fixture(scope="module")
def text(shared_dir):
    return load_text_tokenizer(shared_dir / "fixtures" / "tokenizers" / "text_tokenizer_4m_wordpiece_30k.json")


def test_metadata_from_raw_values_matches_the_golden(pure):
    raw = Metadata(values={"original_width": 640, "original_height": 480, "n_humans": 3, "brightness": 127.0,
                           "watermark_score": 0.9, "aesthetic_score": 5.0, "semantic_diversity": 2,
                           "entropy": 7.2})
    assert MetadataSerializer().serialize(raw) == pure["metadata_string"]


def test_det_from_boxes_matches_the_golden(pure):
    boxes = Detections(instances=[
        {"box": {"xmin": 0.1, "ymin": 0.2, "xmax": 0.5, "ymax": 0.9}, "class_name": "dog", "score": 0.9},
        {"box": {"xmin": 0.0, "ymin": 0.0, "xmax": 1.0, "ymax": 1.0}, "class_name": "dining table"},
    ])
    assert DetectionSerializer().format(boxes) == pure["det_string"]


def test_palette_from_colours_matches_the_golden(pure):
    palette = ColorPalette(colors=[{"r": 254.6, "g": 0.2, "b": 10}, {"r": 12, "g": 201.4, "b": 33}])
    assert ColorPaletteSerializer().serialize(palette) == pure["color_palette_string"]


@pytest.mark.parametrize(("name", "serializer"), [
    ("metadata_string", MetadataSerializer()),
    ("color_palette_string", ColorPaletteSerializer()),
])
def test_golden_strings_parse_and_reserialise_unchanged(pure, name, serializer):
    assert serializer.serialize(serializer.parse(pure[name])) == pure[name]


def test_golden_det_string_parses_and_reformats_unchanged(pure):
    serializer = DetectionSerializer()
    parsed = serializer.parse(pure["det_string"])
    assert [d.class_name for d in parsed.instances] == ["dog", "dining table"]
    assert serializer.format(parsed) == pure["det_string"]


@pytest.mark.parametrize(("name", "serializer"), [
    ("metadata_string", MetadataSerializer()),
    ("color_palette_string", ColorPaletteSerializer()),
])
def test_golden_token_ids_round_trip_through_the_structured_tokenizer(pure, text, name, serializer):
    tokenizer = StructuredTextTokenizer(serializer, text)
    ids = pure["token_ids"][name]
    assert tokenizer.tokenize(tokenizer.detokenize(ids)) == ids


def test_golden_det_ids_decode_to_boxes_and_are_then_ordered_by_corner_distance(pure, text):
    tokenizer = StructuredTextTokenizer(DetectionSerializer(), text)
    ids = pure["token_ids"]["det_string"]
    record = tokenizer.detokenize(ids)
    assert text.tokenize(tokenizer.serializer.format(record)) == ids
    reordered = tokenizer.tokenize(record)
    assert text.detokenize(reordered) == "v0=0 v1=0 v2=999 v3=999 dining table v0=100 v1=200 v2=500 v3=899 dog"


def test_metadata_chunks_tokenise_to_the_golden_ids_chunk_by_chunk(pure, text):
    tokenizer = StructuredTextTokenizer(MetadataSerializer(), text)
    chunks = tokenizer.tokenize_chunks(MetadataSerializer().parse(pure["metadata_string"]))
    assert all(len(chunk) == 2 for chunk in chunks)
    assert [t for chunk in chunks for t in chunk] == pure["token_ids"]["metadata_string"]
