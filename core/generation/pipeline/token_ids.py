"""Token ids given as such: the ``mm4m-token-ids`` JSON documents shared with ``mm4m tokenize``, and ids files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict

from mm4m.core.generation.pipeline.errors import PipelineError

IDS_FORMAT = "mm4m-token-ids"
"""``format`` of token-id files, shared with ``mm4m tokenize`` (its ids files are valid inputs here)."""


class TokenIds(BaseModel):
    """Ids of a token modality given as such (e.g. an ids file of ``mm4m tokenize``) instead of raw data."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    ids: torch.Tensor
    source: str = "<memory>"


def ids_document(modality: str, tokens: torch.Tensor) -> dict[str, Any]:
    """The ``mm4m-token-ids`` JSON document of one sample's (N,) ids."""
    return {"format": IDS_FORMAT, "modality": modality, "shape": [1, tokens.numel()], "ids": [tokens.tolist()]}


def read_ids_file(path: Path, modality: str) -> torch.Tensor:
    """Ids from a ``mm4m-token-ids`` JSON file or a safetensors file with an ``ids`` tensor."""
    if path.suffix.lower() == ".safetensors":
        from mm4m.core.checkpoint.safetensors_file import header_metadata, load_tensors

        found = header_metadata(path).get("modality")
        tensors = load_tensors(path)
        if "ids" not in tensors:
            raise PipelineError(f"{path}: expected an 'ids' tensor, found {sorted(tensors)}")
        ids = tensors["ids"]
    else:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PipelineError(f"{path}: cannot read ids JSON: {exc}") from None
        if not isinstance(document, dict) or document.get("format") != IDS_FORMAT or "ids" not in document:
            raise PipelineError(f"{path}: expected a JSON object with format {IDS_FORMAT!r} and 'ids', found "
                                f"{str(document)[:60]!r}")
        found, ids = document.get("modality"), torch.tensor(document["ids"], dtype=torch.long)
    if found is not None and found != modality:
        raise PipelineError(f"{path}: ids of modality {found!r}, expected {modality!r}")
    return ids
