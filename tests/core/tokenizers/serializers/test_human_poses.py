"""``human_poses`` serialisation: 39 words per person, seeded group order, parameter codings, parsing."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.tokenizers.serializers import (
    BoundingBox,
    HumanPose,
    HumanPoses,
    HumanPoseSerializer,
    SerializationError,
)

SERIALIZER = HumanPoseSerializer()
GROUPS = ["pose", "global", "shape", "camera"]


@st.composite
def people(draw) -> HumanPose:
    x1, x2 = sorted(draw(st.floats(0.0, 1.0)) for _ in range(2))
    y1, y2 = sorted(draw(st.floats(0.0, 1.0)) for _ in range(2))
    return HumanPose(
        box=BoundingBox(xmin=x1, ymin=y1, xmax=x2, ymax=y2),
        pose_codes=draw(st.lists(st.integers(0, 1023), min_size=8, max_size=8)),
        global_orient=draw(st.lists(st.floats(-1.2, 1.2), min_size=9, max_size=9)),
        betas=draw(st.lists(st.floats(-4.0, 4.0), min_size=10, max_size=10)),
        camera=draw(st.lists(st.floats(-3.0, 25.0), min_size=3, max_size=3)),
    )


records = st.builds(HumanPoses, people=st.lists(people(), max_size=7))


def clamp(values, low, high):
    return [min(max(v, low), high) for v in values]


def assert_close(original, back, low, high, scale):
    for a, b in zip(clamp(original, low, high), back, strict=True):
        assert abs(a - b) <= 0.5 / scale + 1e-9


@given(records, st.integers(0, 2**32 - 1))
def test_round_trip_is_within_the_parameter_codings(record, seed):
    text = SERIALIZER.serialize(record, random.Random(seed))
    parsed = SERIALIZER.parse(text)
    assert len(parsed.people) == len(record.people)
    for original, back in zip(record.people, parsed.people, strict=True):
        assert back.pose_codes == original.pose_codes
        assert_close(original.global_orient, back.global_orient, -1.0, 1.0, 499.5)
        assert_close(original.betas, back.betas, -499.5 / 166.5, 499.5 / 166.5, 166.5)
        assert_close(original.camera, back.camera, -1.0, 19.0, 49.95)
        assert abs(original.box.xmin - back.box.xmin) <= 0.5 / 999 + 1e-12
    assert SERIALIZER.parse(SERIALIZER.serialize(parsed)) == parsed


@given(records, st.integers(0, 2**32 - 1))
def test_each_person_is_39_words_with_every_group_once(record, seed):
    words = SERIALIZER.serialize(record, random.Random(seed)).split()
    if not record.people:
        assert words == ["none"]
        return
    assert len(words) == 39 * len(record.people)
    for start in range(0, len(words), 39):
        person = words[start:start + 39]
        assert person[0] == "human"
        assert sorted(w for w in person if not w.startswith("v")) == sorted(["human", *GROUPS])


def test_group_order_is_canonical_without_rng_and_seeded_with_one():
    record = HumanPoses(people=[HumanPose(box=BoundingBox(xmin=0, ymin=0, xmax=1, ymax=1), pose_codes=[0] * 8,
                                          global_orient=[0.0] * 9, betas=[0.0] * 10, camera=[0.0] * 3)] * 3)

    def orders(rng):
        return [[w for w in SERIALIZER.serialize(record, rng).split() if w in GROUPS][i:i + 4]
                for i in range(0, 12, 4)]

    assert orders(None) == [GROUPS] * 3
    assert orders(random.Random(7)) == orders(random.Random(7))
    assert any(order != GROUPS for seed in range(5) for order in orders(random.Random(seed)))


@pytest.mark.parametrize(("text", "message"), [
    ("", "expected 'human' at word 0, found end of text"),
    ("none human", "expected the end of the text after 'none' at word 1"),
    ("human v0=0 v1=0 v2=9 v3=9 pose " + "v0=1 " * 8 + "pose", "one of the groups \\['global', 'shape', 'camera'\\]"),
    ("human v0=0 v1=0 v2=9 v3=9 pose " + "v0=1 " * 7 + "global", "codebook word"),
    ("human v0=0 v1=0 v2=9 v3=9 camera v0=1 v0=2", "expected a 'v0=' value word at word 8, found end of text"),
])
def test_malformed_text_is_reported(text, message):
    with pytest.raises(SerializationError, match=message):
        SERIALIZER.parse(text)


@pytest.mark.parametrize(("field", "length"), [("pose_codes", 7), ("global_orient", 8), ("betas", 11),
                                               ("camera", 2)])
def test_parameter_counts_are_checked(field, length):
    fields = {"pose_codes": [0] * 8, "global_orient": [0.0] * 9, "betas": [0.0] * 10, "camera": [0.0] * 3}
    fields[field] = [0] * length
    with pytest.raises(ValueError, match=field):
        HumanPose(box=BoundingBox(xmin=0, ymin=0, xmax=1, ymax=1), **fields)
