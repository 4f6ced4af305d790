"""Command-line input values read into raw data: text (or a ``@FILE`` of it), JSON records, ids files, samples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mm4m.core.generation.pipeline.errors import PipelineError
from mm4m.core.generation.pipeline.token_ids import TokenIds, read_ids_file
from mm4m.core.spec import ModalityKind, ModalitySpec

TEXT_FILE_PREFIX = "@"
"""A text input value starting with this names a UTF-8 file holding the text (``caption=@prompt.txt``)."""


def load_input(spec: ModalitySpec, value: str) -> Any:
    """The raw data (or `TokenIds`) a command-line value names: text itself (``@FILE`` reads it; structured
    modalities take a JSON record), an ids file (.json / .safetensors) or a PNG / .npy sample."""
    from mm4m.core.tokenizers.training.data import SampleError, SampleLayout, layout_for, read_sample

    where = f"input '{spec.key}'"
    if spec.kind is ModalityKind.TEXT_SEQUENCE:
        text = _read_text(value[1:], where) if value.startswith(TEXT_FILE_PREFIX) else value
        if not _is_structured(spec):
            return text
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise PipelineError(f"{where}: expected a JSON record of the modality, found invalid JSON ({exc})") \
                from None
    path = Path(value)
    if not path.is_file():
        raise PipelineError(f"{where}: file {path} not found")
    suffix = path.suffix.lower()
    tokens = spec.kind in (ModalityKind.IMAGE_TOKENS, ModalityKind.GLOBAL_TOKENS)
    if tokens and suffix in (".json", ".safetensors"):
        return TokenIds(ids=read_ids_file(path, spec.key), source=str(path))
    if spec.kind is ModalityKind.SEQUENCE_EMBEDDING:
        if suffix != ".npy":
            raise PipelineError(f"{where}: expected an (L, {spec.channels}) .npy array, found {path.name}")
        return torch.from_numpy(np.load(path, allow_pickle=False))
    layout = SampleLayout.IMAGE if spec.kind is ModalityKind.IMAGE_PIXELS else layout_for(spec)
    kinds = "a PNG or .npy sample" + (", or an ids file (.json / .safetensors)" if tokens else "")
    if suffix not in (".png", ".npy"):
        raise PipelineError(f"{where}: expected {kinds}, found {path.name}")
    try:
        return read_sample(path, layout)
    except SampleError as exc:
        raise PipelineError(f"{where}: {exc}") from None


def _is_structured(spec: ModalitySpec) -> bool:
    """True for text modalities whose data is a record serialised to text (det, metadata, ...)."""
    from mm4m.registry.default import get_registry

    return getattr(get_registry().get(spec.key), "serializer", None) is not None


def _read_text(path: str, where: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(f"{where}: cannot read text file {path}: {exc}") from None
