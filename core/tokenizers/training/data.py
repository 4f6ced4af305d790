"""Training data: a directory of one-sample files (PNG or ``.npy``), read in file-name order.

* images (RGB, normals, edges, depth): PNG (8-bit → /255, 16-bit → /65535) or float ``.npy`` (C, H, W) / (H, W);
* label maps (semseg): PNG of class indices (mode L or P) or integer ``.npy`` (H, W);
* embeddings: float ``.npy`` feature maps (C, h, w), or global vectors (C,) read as (C, 1, 1).
All samples of a directory must have the same shape.
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from mm4m.core.spec import ModalityKind, ModalitySpec, NormalizationMethod

SAMPLE_SUFFIXES = (".png", ".npy")
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I")


class SampleLayout(str, Enum):
    """What one raw sample of a modality is."""

    IMAGE = "image"  # float (C, H, W) in the raw value range
    LABELS = "labels"  # int64 (H, W) class map
    EMBEDDING = "embedding"  # float (C, h, w); global vectors as (C, 1, 1)


class SampleError(ValueError):
    """A sample file that cannot be read as its modality's data."""


def layout_for(spec: ModalitySpec) -> SampleLayout:
    """The raw sample layout of ``spec``: labels for label-shifted maps, embeddings for features, else images."""
    if not spec.kind.is_image:
        raise SampleError(f"modality {spec.key!r} holds {spec.kind.value} data, not image-like arrays")
    if spec.normalization.method is NormalizationMethod.LABEL_SHIFT:
        return SampleLayout.LABELS
    if spec.kind is ModalityKind.GLOBAL_TOKENS or spec.normalization.method is NormalizationMethod.NONE:
        return SampleLayout.EMBEDDING
    return SampleLayout.IMAGE


def _png(path: Path, layout: SampleLayout) -> np.ndarray:
    try:
        with Image.open(path) as image:
            image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise SampleError(f"{path}: not a readable PNG ({exc})") from None
    if layout is SampleLayout.LABELS:
        if image.mode not in ("L", "P"):
            raise SampleError(f"{path}: expected a class-index PNG (mode L or P), found mode {image.mode}")
        return np.asarray(image, dtype=np.int64)
    if layout is SampleLayout.EMBEDDING:
        raise SampleError(f"{path}: embeddings are read from .npy arrays, found a PNG")
    if image.mode in _SIXTEEN_BIT_MODES:
        return np.asarray(image, dtype=np.float32)[None] / 65535.0
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    pixels = np.asarray(image, dtype=np.float32) / 255.0
    return pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)


def _npy(path: Path, layout: SampleLayout) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise SampleError(f"{path}: not a readable .npy array ({exc})") from None
    integer = np.issubdtype(array.dtype, np.integer)
    if layout is SampleLayout.LABELS:
        if not integer or array.ndim != 2:
            raise SampleError(f"{path}: expected an integer (H, W) label map, found {array.dtype} {array.shape}")
        return array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.floating):
        raise SampleError(f"{path}: expected a float array, found {array.dtype}")
    if layout is SampleLayout.EMBEDDING and array.ndim == 1:
        return array.astype(np.float32)[:, None, None]
    if layout is SampleLayout.IMAGE and array.ndim == 2:
        return array.astype(np.float32)[None]
    if array.ndim != 3:
        raise SampleError(f"{path}: expected a (C, H, W) array, found shape {array.shape}")
    return array.astype(np.float32)


def read_sample(path: str | os.PathLike[str], layout: SampleLayout) -> torch.Tensor:
    """One sample file as a tensor in the raw domain (float (C, H, W) or int64 (H, W) labels)."""
    path = Path(path)
    if path.suffix.lower() not in SAMPLE_SUFFIXES:
        raise SampleError(f"{path}: expected a {' or '.join(SAMPLE_SUFFIXES)} file, found suffix {path.suffix!r}")
    reader = _png if path.suffix.lower() == ".png" else _npy
    return torch.from_numpy(np.ascontiguousarray(reader(path, layout)))


def sample_files(directory: str | os.PathLike[str]) -> list[Path]:
    """The sample files of ``directory`` sorted by name; an empty or missing directory is an error."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SampleError(f"data directory {directory} not found")
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in SAMPLE_SUFFIXES)
    if not files:
        raise SampleError(f"data directory {directory}: expected {' or '.join(SAMPLE_SUFFIXES)} sample files, "
                          "found none")
    return files


def load_samples(directory: str | os.PathLike[str], layout: SampleLayout) -> torch.Tensor:
    """All samples of ``directory`` stacked into one (N, …) tensor; shapes must agree."""
    files = sample_files(directory)
    samples = [read_sample(files[0], layout)]
    for path in files[1:]:
        sample = read_sample(path, layout)
        if sample.shape != samples[0].shape:
            raise SampleError(f"{path}: expected the shape {tuple(samples[0].shape)} of {files[0].name}, found "
                              f"{tuple(sample.shape)}")
        samples.append(sample)
    return torch.stack(samples)
