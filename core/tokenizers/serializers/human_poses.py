"""Human poses as 4M text: per person a box and four parameter groups (spec §1.6, ``human_poses``).

Per person: ``human v0= v1= v2= v3=`` (box ×999), then the groups ``pose`` (8 pose-tokenizer codes),
``global`` (9 global-orientation matrix entries), ``shape`` (10 SMPL betas) and ``camera`` (3 values), in a
random order during training. Group values are written as ``v0=`` words; ``none`` when there is nobody.
"""

from __future__ import annotations

import random
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat

from mm4m.core.tokenizers.serializers.base import TextSerializer
from mm4m.core.tokenizers.serializers.quantization import (
    CODEBOOK_SIZE,
    BoundingBox,
    WordReader,
    affine_dequantize,
    affine_quantize,
    code_word,
    value_word,
)

NOBODY = "none"
PERSON = "human"
CAMERA_RANGE = (-1.0, 19.0)
"""Camera values are clipped to this range before quantisation."""
_SCALE_OFFSET = {"global": (499.5, 499.5), "shape": (166.5, 499.5), "camera": (49.95, 49.95)}

Code = Annotated[int, Field(ge=0, lt=CODEBOOK_SIZE)]


class PoseGroup(StrEnum):
    """The four parameter groups of a person, in their canonical (unshuffled) order."""

    POSE = "pose"
    GLOBAL = "global"
    SHAPE = "shape"
    CAMERA = "camera"


_GROUP_SIZES = {PoseGroup.POSE: 8, PoseGroup.GLOBAL: 9, PoseGroup.SHAPE: 10, PoseGroup.CAMERA: 3}


class HumanPose(BaseModel):
    """One person: box, pose-tokenizer codes and SMPL global orientation, shape and camera parameters."""

    model_config = ConfigDict(frozen=True)

    box: BoundingBox
    pose_codes: list[Code] = Field(min_length=8, max_length=8, description="Codes of the pose tokenizer.")
    global_orient: list[FiniteFloat] = Field(min_length=9, max_length=9,
                                             description="Rotation matrix, row-major, entries in [-1, 1].")
    betas: list[FiniteFloat] = Field(min_length=10, max_length=10, description="SMPL shape, about [-3, 3].")
    camera: list[FiniteFloat] = Field(min_length=3, max_length=3, description="Clipped to [-1, 19].")


class HumanPoses(BaseModel):
    """The people of one image, in serialisation order."""

    model_config = ConfigDict(frozen=True)

    people: list[HumanPose] = Field(default_factory=list)


def _group_values(person: HumanPose, group: PoseGroup) -> list[float]:
    if group is PoseGroup.GLOBAL:
        return person.global_orient
    if group is PoseGroup.SHAPE:
        return person.betas
    low, high = CAMERA_RANGE
    return [min(max(v, low), high) for v in person.camera]


class HumanPoseSerializer(TextSerializer[HumanPoses]):
    """``human_poses``: 39 words per person; ``rng`` shuffles each person's four groups."""

    modality = "human_poses"
    record_type = HumanPoses

    def chunks(self, record: HumanPoses, rng: random.Random | None = None) -> list[str]:
        """One chunk; values beyond the coded ranges saturate at 0 or 999."""
        people = self.validate(record).people
        if not people:
            return [NOBODY]
        words = []
        for person in people:
            groups = list(PoseGroup)
            if rng is not None:
                rng.shuffle(groups)
            words += [PERSON, *person.box.words()]
            for group in groups:
                words.append(group.value)
                if group is PoseGroup.POSE:
                    words += [code_word(c) for c in person.pose_codes]
                else:
                    scale, offset = _SCALE_OFFSET[group.value]
                    words += [value_word(0, affine_quantize(v, scale, offset)) for v in _group_values(person, group)]
        return [" ".join(words)]

    def parse(self, text: str) -> HumanPoses:
        """People with their groups in any order; each group must appear exactly once per person."""
        reader = WordReader(text, self.modality)
        if reader.peek() == NOBODY:
            reader.take()
            if not reader.done():
                raise reader.error(f"the end of the text after {NOBODY!r}")
            return HumanPoses()
        people = []
        while True:
            reader.literal(PERSON)
            people.append(self._person(reader))
            if reader.done():
                return HumanPoses(people=people)

    def _person(self, reader: WordReader) -> HumanPose:
        box = reader.box()
        fields: dict[PoseGroup, list] = {}
        while len(fields) < len(PoseGroup):
            missing = [g.value for g in PoseGroup if g not in fields]
            word = reader.peek()
            if word not in missing:
                raise reader.error(f"one of the groups {missing}")
            group = PoseGroup(reader.take())
            if group is PoseGroup.POSE:
                fields[group] = [reader.code() for _ in range(_GROUP_SIZES[group])]
            else:
                scale, offset = _SCALE_OFFSET[group.value]
                fields[group] = [affine_dequantize(reader.value(0), scale, offset)
                                 for _ in range(_GROUP_SIZES[group])]
        return HumanPose(box=box, pose_codes=fields[PoseGroup.POSE], global_orient=fields[PoseGroup.GLOBAL],
                         betas=fields[PoseGroup.SHAPE], camera=fields[PoseGroup.CAMERA])
