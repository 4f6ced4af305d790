"""The JSON index of a sharded dataset: modality layouts, shard files, sample counts and checksums."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mm4m.core.checkpoint.safetensors_file import atomic_write_bytes

INDEX_NAME = "index.json"
FORMAT_NAME = "mm4m-shards"
FORMAT_VERSION = 1
SHARD_DTYPES = ("uint8", "int16", "int32", "int64", "float16", "bfloat16", "float32")


class ShardError(ValueError):
    """A missing, corrupt or inconsistent dataset file; the message names the file."""


class ModalityLayout(BaseModel):
    """How one modality is stored: dtype and per-sample shape; ``ragged`` samples vary in their first axis.

    A fixed modality is one tensor ``key`` of shape (n, *sample_shape). A ragged one is the samples
    concatenated along their first axis in ``key`` (shape (total, *sample_shape[1:])) plus ``key.offsets``
    (n + 1,) int64; its ``sample_shape[0]`` is -1.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    dtype: Literal[SHARD_DTYPES]  # type: ignore[valid-type]
    sample_shape: tuple[int, ...]
    ragged: bool = False

    @model_validator(mode="after")
    def _shape_matches_raggedness(self) -> ModalityLayout:
        dims = self.sample_shape[1:] if self.ragged else self.sample_shape
        if self.ragged and (not self.sample_shape or self.sample_shape[0] != -1):
            raise ValueError(f"a ragged layout needs sample_shape (-1, ...), found {list(self.sample_shape)}")
        if any(d <= 0 for d in dims):
            raise ValueError(f"sample_shape dimensions must be positive, found {list(self.sample_shape)}")
        return self


class ShardEntry(BaseModel):
    """One shard file (relative to the dataset directory), its sample count and sha256."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    num_samples: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ShardIndex(BaseModel):
    """``index.json``: the modalities of every sample and the ordered list of shards."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["mm4m-shards"] = FORMAT_NAME
    version: Literal[1] = FORMAT_VERSION
    modalities: dict[str, ModalityLayout] = Field(min_length=1)
    shards: list[ShardEntry] = Field(min_length=1)

    @property
    def num_samples(self) -> int:
        return sum(s.num_samples for s in self.shards)

    def write(self, directory: Path) -> Path:
        """Write ``index.json`` into ``directory`` atomically."""
        path = directory / INDEX_NAME
        atomic_write_bytes(path, (json.dumps(self.model_dump(mode="json"), indent=2) + "\n").encode())
        return path

    @classmethod
    def read(cls, directory: str | Path) -> ShardIndex:
        """Parse ``directory/index.json``; a missing or invalid index is a `ShardError` naming the file."""
        path = Path(directory) / INDEX_NAME
        if not path.is_file():
            raise ShardError(f"{path}: dataset index not found (expected a directory written by ShardWriter)")
        try:
            return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ShardError(f"{path}: corrupt dataset index (not valid JSON: {exc})") from None
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'index'}: {e['msg']}" for e in exc.errors())
            raise ShardError(f"{path}: invalid dataset index: {problems}") from None
