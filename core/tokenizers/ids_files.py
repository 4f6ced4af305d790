"""The ``mm4m-token-ids`` format of token-id files: written by ``mm4m tokenize`` and ``mm4m generate``, read by both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

IDS_FORMAT = "mm4m-token-ids"
"""``format`` of token-id files (JSON documents, or safetensors header metadata)."""


class IdsFileError(ValueError):
    """An ids file that cannot be read, or that holds the ids of another modality."""


def ids_metadata(modality: str) -> dict[str, str]:
    """The safetensors header metadata of an ids file (its one tensor is ``ids``)."""
    return {"format": IDS_FORMAT, "modality": modality}


def ids_document(modality: str, ids: torch.Tensor) -> dict[str, Any]:
    """The JSON document of ``ids`` (any shape) of ``modality``."""
    return {**ids_metadata(modality), "shape": list(ids.shape), "ids": ids.tolist()}


def read_ids_file(path: Path, modality: str, *, require_format: bool = True) -> torch.Tensor:
    """Ids from a JSON ids document (with ``format`` unless not ``require_format``) or a safetensors ids file."""
    if path.suffix.lower() == ".safetensors":
        from mm4m.core.checkpoint.safetensors_file import header_metadata, load_tensors

        found = header_metadata(path).get("modality")
        tensors = load_tensors(path)
        if "ids" not in tensors:
            raise IdsFileError(f"{path}: expected an 'ids' tensor, found {sorted(tensors)}")
        ids = tensors["ids"]
    else:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IdsFileError(f"{path}: cannot read ids JSON: {exc}") from None
        if (not isinstance(document, dict) or "ids" not in document
                or (require_format and document.get("format") != IDS_FORMAT)):
            raise IdsFileError(f"{path}: expected a JSON object with format {IDS_FORMAT!r} and 'ids', found "
                               f"{str(document)[:60]!r}")
        found, ids = document.get("modality"), torch.tensor(document["ids"], dtype=torch.long)
    if found is not None and found != modality:
        raise IdsFileError(f"{path}: ids of modality {found!r}, expected {modality!r}")
    return ids
