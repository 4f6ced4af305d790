"""`RetrievalIndex`: unit-normalised embeddings with their ids, searched by cosine similarity, stored as one
safetensors file (vectors as a tensor, ids as JSON in the header) written atomically."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import torch
from pydantic import BaseModel, ConfigDict

from mm4m.core.retrieval.search import SearchBackend, top_k

INDEX_FORMAT = "mm4m-retrieval-index"
INDEX_VERSION = "1"


class RetrievalError(ValueError):
    """An index, embedding set or query that cannot be used; the message names the file or item."""


class Hit(BaseModel):
    """One neighbour: the item's id and its cosine similarity to the query."""

    model_config = ConfigDict(frozen=True)

    id: str
    score: float


class RetrievalIndex:
    """Embeddings (N, D) of the items ``ids`` in the space of ``modality``; rows are L2-normalised on creation."""

    def __init__(self, vectors: torch.Tensor, ids: Sequence[str], *, modality: str | None = None):
        if vectors.dim() != 2 or not vectors.dtype.is_floating_point or vectors.shape[0] == 0:
            raise RetrievalError(f"index vectors: expected a float (N, D) tensor with N >= 1, found "
                                 f"{vectors.dtype} of shape {tuple(vectors.shape)}")
        ids = [str(item) for item in ids]
        if len(ids) != vectors.shape[0]:
            raise RetrievalError(f"index: expected one id per vector ({vectors.shape[0]}), found {len(ids)}")
        repeated = sorted(item for item, count in Counter(ids).items() if count > 1)
        if repeated:
            raise RetrievalError(f"index: ids must be unique, found repeated {repeated[:5]}")
        vectors = vectors.detach().to("cpu", torch.float32)
        norms = vectors.norm(dim=1)
        bad = [ids[i] for i in (~torch.isfinite(norms) | (norms == 0)).nonzero().flatten().tolist()]
        if bad:
            raise RetrievalError(f"index: cosine search needs finite non-zero vectors, found zero or non-finite "
                                 f"ones for ids {bad[:5]}")
        self.vectors = vectors / norms[:, None]
        self.ids = ids
        self.modality = modality

    @property
    def dim(self) -> int:
        """Embedding width D."""
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: torch.Tensor, k: int = 5, *, backend: SearchBackend = SearchBackend.AUTO) -> list[Hit]:
        """The ``min(k, N)`` items nearest to one query embedding (D,), best first."""
        if query.dim() != 1:
            raise RetrievalError(f"query: expected one embedding (D,), found shape {tuple(query.shape)}; use "
                                 f"search_batch for several")
        return self.search_batch(query[None], k, backend=backend)[0]

    def search_batch(self, queries: torch.Tensor, k: int = 5, *,
                     backend: SearchBackend = SearchBackend.AUTO) -> list[list[Hit]]:
        """The ``min(k, N)`` nearest items of each query of (Q, D), best first."""
        queries = queries.detach().to("cpu", torch.float32)
        if queries.dim() != 2 or queries.shape[1] != self.dim:
            raise RetrievalError(f"query: expected embeddings of width {self.dim} (the index's"
                                 f"{f' {self.modality}' if self.modality else ''}), found shape {tuple(queries.shape)}")
        if k < 1:
            raise RetrievalError(f"query: expected k >= 1, found {k}")
        norms = queries.norm(dim=1, keepdim=True)
        if not torch.isfinite(norms).all() or (norms == 0).any():
            raise RetrievalError("query: cosine search needs finite non-zero query embeddings")
        scores, rows = top_k(self.vectors, queries / norms, min(k, len(self)), backend)
        return [[Hit(id=self.ids[row], score=float(score)) for score, row in zip(score_row, index_row.tolist())]
                for score_row, index_row in zip(scores, rows)]

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the index atomically (temporary file, then rename); returns the path."""
        from mm4m.core.checkpoint.safetensors_file import write_tensors

        metadata = {"format": INDEX_FORMAT, "version": INDEX_VERSION, "ids": json.dumps(self.ids),
                    "modality": self.modality or ""}
        target = Path(path)
        write_tensors(target, {"vectors": self.vectors}, metadata)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RetrievalIndex:
        """Read an index written by `save`; another file is an error naming what it found."""
        from mm4m.core.checkpoint.errors import CheckpointError
        from mm4m.core.checkpoint.safetensors_file import header_metadata, load_tensors

        path = Path(path)
        if not path.is_file():
            raise RetrievalError(f"index {path} not found")
        try:
            metadata = header_metadata(path)
            found = metadata.get("format")
            if found != INDEX_FORMAT:
                raise RetrievalError(f"{path}: expected a retrieval index (format {INDEX_FORMAT!r}), found "
                                     f"format {found!r}")
            if metadata.get("version") != INDEX_VERSION:
                raise RetrievalError(f"{path}: expected index version {INDEX_VERSION}, found "
                                     f"{metadata.get('version')!r}")
            vectors = load_tensors(path, ["vectors"])["vectors"]
            ids = json.loads(metadata["ids"])
        except (CheckpointError, KeyError, json.JSONDecodeError) as exc:
            raise RetrievalError(f"{path}: not a readable retrieval index ({exc})") from None
        return cls(vectors, ids, modality=metadata.get("modality") or None)
