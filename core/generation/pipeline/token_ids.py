"""Token ids given as such: `TokenIds`, and ids files (`mm4m.core.tokenizers.ids_files`) as pipeline inputs."""

from __future__ import annotations

from pathlib import Path

import torch
from pydantic import BaseModel, ConfigDict

from mm4m.core.generation.pipeline.errors import PipelineError
from mm4m.core.tokenizers import ids_files
from mm4m.core.tokenizers.ids_files import IDS_FORMAT

__all__ = ["IDS_FORMAT", "TokenIds", "read_ids_file"]


class TokenIds(BaseModel):
    """Ids of a token modality given as such (e.g. an ids file of ``mm4m tokenize``) instead of raw data."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    ids: torch.Tensor
    source: str = "<memory>"


def read_ids_file(path: Path, modality: str) -> torch.Tensor:
    """`mm4m.core.tokenizers.ids_files.read_ids_file`, its problems raised as `PipelineError`."""
    try:
        return ids_files.read_ids_file(path, modality)
    except ids_files.IdsFileError as exc:
        raise PipelineError(str(exc)) from None
