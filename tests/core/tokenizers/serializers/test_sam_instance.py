"""``sam_instance`` serialisation: query points, the instances containing them, seeded orders, parsing."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.tokenizers.serializers import (
    BoundingBox,
    SamInstance,
    SamInstances,
    SamInstanceSerializer,
    SamQuery,
    SerializationError,
    draw_queries,
)

SERIALIZER = SamInstanceSerializer()


@st.composite
def instances(draw) -> SamInstance:
    corners = [draw(st.integers(0, 999)) / 999 for _ in range(4)]
    x1, x2 = sorted(corners[:2])
    y1, y2 = sorted(corners[2:])
    return SamInstance(box=BoundingBox(xmin=x1, ymin=y1, xmax=x2, ymax=y2),
                       mask_codes=draw(st.lists(st.integers(0, 1023), min_size=16, max_size=16)))


queries = st.builds(SamQuery, x=st.integers(0, 223), y=st.integers(0, 223),
                    instances=st.lists(instances(), max_size=3))
records = st.builds(SamInstances, queries=st.lists(queries, max_size=7))


def canonical(record: SamInstances) -> list:
    """The record up to the orders the serialiser may shuffle."""
    return sorted((q.x, q.y, sorted(i.model_dump_json() for i in q.instances)) for q in record.queries)


@given(records, st.integers(0, 2**32 - 1))
def test_round_trip_equals_the_record_up_to_seeded_order(record, seed):
    text = SERIALIZER.serialize(record, random.Random(seed))
    parsed = SERIALIZER.parse(text)
    assert canonical(parsed) == canonical(record)
    assert SERIALIZER.serialize(parsed) == text
    assert text == SERIALIZER.serialize(record, random.Random(seed))


@given(records)
def test_without_rng_the_record_order_is_kept_and_word_counts_add_up(record):
    text = SERIALIZER.serialize(record)
    assert SERIALIZER.parse(text) == record
    words = text.split()
    assert len(words) == sum(3 + (21 * len(q.instances) or 1) for q in record.queries)
    assert words.count("point") == len(record.queries)


def test_layout_of_one_point_with_one_instance():
    record = SamInstances(queries=[
        SamQuery(x=5, y=7, instances=[SamInstance(box=BoundingBox(xmin=0, ymin=0, xmax=1, ymax=0.5),
                                                  mask_codes=list(range(505, 521)))]),
        SamQuery(x=0, y=223),
    ])
    codes = " ".join([f"v0={c}" for c in range(505, 512)] + [f"v1={c - 512}" for c in range(512, 521)])
    assert SERIALIZER.serialize(record) == (
        f"point v0=7 v1=5 polygon v0=0 v1=0 v2=999 v3=500 {codes} point v0=223 v1=0 none")


@given(st.lists(instances(), max_size=4), st.integers(0, 2**32 - 1), st.integers(1, 16))
def test_drawn_queries_attach_exactly_the_instances_whose_mask_holds_the_point(found, seed, size):
    grid = random.Random(seed)
    masks = [[[grid.random() < 0.5 for _ in range(size)] for _ in range(size)] for _ in found]
    record = draw_queries(found, masks, random.Random(seed), num_points=5, image_size=size)
    assert len(record.queries) == 5
    for query in record.queries:
        assert query.instances == [inst for inst, mask in zip(found, masks, strict=True) if mask[query.y][query.x]]
    assert record == draw_queries(found, masks, random.Random(seed), num_points=5, image_size=size)


def test_draw_queries_checks_its_inputs():
    one = SamInstance(box=BoundingBox(xmin=0, ymin=0, xmax=1, ymax=1), mask_codes=[0] * 16)
    with pytest.raises(SerializationError, match="one mask per instance, got 0 masks for 1 instances"):
        draw_queries([one], [], random.Random(0))
    with pytest.raises(SerializationError, match="image size must be in 1..224, got 300"):
        draw_queries([], [], random.Random(0), image_size=300)


@pytest.mark.parametrize(("text", "message"), [
    ("polygon", "expected 'point' at word 0, found 'polygon'"),
    ("point v0=1", "expected a 'v1=' value word at word 2, found end of text"),
    ("point v0=224 v1=0 none", "point must lie in \\[0, 224\\), got x=0 y=224"),
    ("point v0=1 v1=1", "expected 'polygon' at word 3, found end of text"),
    ("point v0=1 v1=1 polygon v0=0 v1=0 v2=1 v3=1 " + "v0=3 " * 15, "codebook word"),
    ("point v0=1 v1=1 none none", "expected 'point' at word 4, found 'none'"),
])
def test_malformed_text_is_reported(text, message):
    with pytest.raises(SerializationError, match=message):
        SERIALIZER.parse(text)
