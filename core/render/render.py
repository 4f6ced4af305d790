"""``render(data, modality)``: one sample of a modality's data → a PIL image; ``save_png`` writes it atomically."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from pydantic import BaseModel

from mm4m.core.render.annotations import boxes_picture, text_picture
from mm4m.core.render.images import depth_picture, features_picture, image_picture, labels_picture, vector_picture
from mm4m.core.render.visuals import Visual, visual_for
from mm4m.core.spec import ModalitySpec, NormalizationMethod

_SAMPLE_DIMS = {Visual.IMAGE: (3,), Visual.DEPTH: (3,), Visual.LABELS: (2,), Visual.FEATURES: (3,),
                Visual.VECTOR: (1, 2)}
"""Dimensions one sample may have per array visual; leading axes of size 1 (a batch of one) are dropped."""
_EXPECTED = {Visual.IMAGE: "(1 or 3, H, W) values in [0, 1]", Visual.DEPTH: "(1, H, W) or (H, W)",
             Visual.LABELS: "an integer (H, W) label map", Visual.FEATURES: "a (C, H, W) feature map",
             Visual.VECTOR: "a (C,) vector, (C, 1, 1) or an (L, C) sequence"}


class RenderError(ValueError):
    """Data that cannot be drawn as its modality's visual."""


def _spec(modality: ModalitySpec | str) -> ModalitySpec:
    if isinstance(modality, ModalitySpec):
        return modality
    from mm4m.registry.default import get_registry

    return get_registry().spec(modality)


def _as_array(data: Any) -> np.ndarray:
    if hasattr(data, "detach"):  # a torch tensor
        data = data.detach().to("cpu").numpy()
    return np.asarray(data)


def _one_sample(data: Any, visual: Visual, owner: str) -> np.ndarray:
    """``data`` as a numpy array of one sample, with shape and dtype checked for ``visual``."""
    array = _as_array(data)
    if visual is Visual.VECTOR and array.ndim >= 3 and array.shape[-2:] == (1, 1):
        array = array[..., 0, 0]
    if visual is Visual.DEPTH and array.ndim == 2:
        array = array[None]
    if visual is Visual.IMAGE and array.ndim == 2:
        array = array[None]
    while array.ndim > min(_SAMPLE_DIMS[visual]) and array.shape[0] == 1:
        array = array[0]
    valid = array.ndim in _SAMPLE_DIMS[visual]
    if visual is Visual.IMAGE:
        valid = valid and array.shape[0] in (1, 3)
    if visual is Visual.DEPTH:
        valid = valid and array.shape[0] == 1
    if visual is Visual.LABELS:
        valid = valid and np.issubdtype(array.dtype, np.integer)
    if not valid or array.size == 0:
        raise RenderError(f"{owner}: expected one sample as {_EXPECTED[visual]}, found {array.dtype} of shape "
                          f"{array.shape}")
    return array


def _record_text(data: Any, owner: str) -> str:
    if isinstance(data, str):
        return data
    if isinstance(data, BaseModel):
        return data.model_dump_json(indent=2)
    if isinstance(data, dict | list):
        return json.dumps(data, indent=2)
    raise RenderError(f"{owner}: expected a string or a structured record, found {type(data).__name__}")


def _unlabelled(spec: ModalitySpec) -> int | None:
    """The raw label that the modality's label shift maps to 0 ("unlabelled", 255 for COCO semseg)."""
    bounds = spec.normalization.value_range
    return int(bounds[1]) if spec.normalization.method is NormalizationMethod.LABEL_SHIFT and bounds else None


def render(data: Any, modality: ModalitySpec | str, *, background: Any = None) -> Image.Image:
    """One sample of ``modality`` (raw data or a detokenized decode) drawn as its visual (see `visual_for`).

    ``background`` is the image detections are drawn on: a PIL image or a (3, H, W) array in [0, 1].
    """
    spec = _spec(modality)
    visual = visual_for(spec)
    owner = f"render {spec.key!r} ({visual.value})"
    if visual is Visual.TEXT:
        return text_picture(_record_text(data, owner))
    if visual is Visual.BOXES:
        from mm4m.core.tokenizers.serializers import Detections

        detections = data if isinstance(data, Detections) else Detections.model_validate(data)
        if background is not None and not isinstance(background, Image.Image):
            background = image_picture(_one_sample(background, Visual.IMAGE, owner))
        return boxes_picture(detections, background)
    sample = _one_sample(data, visual, owner)
    if visual is Visual.IMAGE:
        return image_picture(sample)
    if visual is Visual.DEPTH:
        return depth_picture(sample[0])
    if visual is Visual.LABELS:
        return labels_picture(sample, _unlabelled(spec))
    if visual is Visual.FEATURES:
        return features_picture(sample)
    return vector_picture(sample)


def png_bytes(image: Image.Image) -> bytes:
    """``image`` encoded as PNG."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def save_png(image: Image.Image, path: str | os.PathLike[str]) -> Path:
    """Write ``image`` as a PNG atomically (temporary file, then rename); returns the path."""
    from mm4m.core.checkpoint.safetensors_file import atomic_write_bytes

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, png_bytes(image))
    return target
