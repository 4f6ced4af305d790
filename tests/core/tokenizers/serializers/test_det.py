"""``det`` serialisation: score filter, corner-distance order, box quantisation, class names, parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.tokenizers.serializers import (
    BoundingBox,
    Detection,
    Detections,
    DetectionSerializer,
    SerializationError,
    select_and_order,
)
from mm4m.core.tokenizers.text import COCO_CLASS_NAMES


@st.composite
def boxes(draw) -> BoundingBox:
    x1, x2 = sorted(draw(st.floats(0.0, 1.0)) for _ in range(2))
    y1, y2 = sorted(draw(st.floats(0.0, 1.0)) for _ in range(2))
    return BoundingBox(xmin=x1, ymin=y1, xmax=x2, ymax=y2)


class_names = st.one_of(st.sampled_from(COCO_CLASS_NAMES),
                        st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), min_size=1, max_size=3).map(" ".join))
detections = st.builds(Detection, box=boxes(), class_name=class_names,
                       score=st.one_of(st.none(), st.floats(0.0, 1.0)))
records = st.builds(Detections, instances=st.lists(detections, max_size=12))


@given(records)
def test_selection_keeps_confident_instances_ordered_by_corner_distance(record):
    kept = select_and_order(record).instances
    assert all(d.score is None or d.score >= 0.6 for d in kept)
    assert len(kept) == sum(d.score is None or d.score >= 0.6 for d in record.instances)
    distances = [d.box.xmin**2 + d.box.ymin**2 for d in kept]
    assert distances == sorted(distances)


@given(records)
def test_round_trip_is_within_the_quantisation(record):
    serializer = DetectionSerializer(score_threshold=0.0)
    text = serializer.serialize(record)
    parsed = serializer.parse(text)
    ordered = select_and_order(record, 0.0).instances
    assert [d.class_name for d in parsed.instances] == [d.class_name for d in ordered]
    for original, back in zip(ordered, parsed.instances, strict=True):
        for field in ("xmin", "ymin", "xmax", "ymax"):
            assert abs(getattr(original.box, field) - getattr(back.box, field)) <= 0.5 / 999 + 1e-12
    assert serializer.format(parsed) == text


@given(records)
def test_each_box_is_four_ordered_value_words_then_its_name(record):
    words = DetectionSerializer(score_threshold=0.0).serialize(record).split()
    expected = sum(4 + len(d.class_name.split()) for d in record.instances)
    assert len(words) == expected
    if words:
        assert [w[:3] for w in words[:4]] == ["v0=", "v1=", "v2=", "v3="]


def test_empty_detections_are_empty_text():
    assert DetectionSerializer().serialize(Detections()) == ""
    assert DetectionSerializer().parse("") == Detections()


def test_dicts_are_validated_into_records():
    text = DetectionSerializer().serialize({"instances": [
        {"box": {"xmin": 0, "ymin": 0, "xmax": 1, "ymax": 1}, "class_name": "cat", "score": 0.3}]})
    assert text == ""
    with pytest.raises(SerializationError, match="needs a Detections \\(or a dict\\), got list"):
        DetectionSerializer().serialize([])


@pytest.mark.parametrize("name", ["", "two  spaces", " padded", "v0=3", "cat v1=2"])
def test_class_names_that_would_not_parse_back_are_refused(name):
    with pytest.raises(ValueError, match="class name must be"):
        Detection(box=BoundingBox(xmin=0, ymin=0, xmax=1, ymax=1), class_name=name)


@pytest.mark.parametrize(("text", "message"), [
    ("v0=1 v1=2 v2=3 v3=4", "expected a class name at word 4, found end of text"),
    ("v0=1 v1=2 v2=3 v3=4 v0=1", "expected a class name at word 4, found 'v0=1'"),
    ("dog v0=1 v1=2 v2=3 v3=4", "expected a 'v0=' value word at word 0, found 'dog'"),
    ("v0=1 v1=2 v3=3 v2=4 dog", "expected a 'v2=' value word at word 2"),
])
def test_malformed_text_is_reported_with_its_position(text, message):
    with pytest.raises(SerializationError, match=message):
        DetectionSerializer().parse(text)


def test_threshold_outside_unit_interval_is_refused():
    with pytest.raises(SerializationError, match="threshold must be in \\[0, 1\\], got 1.5"):
        DetectionSerializer(score_threshold=1.5)
