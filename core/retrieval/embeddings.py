"""Reading the embeddings an index is built from: a directory of one-vector ``.npy`` files, or one (N, D) array."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from mm4m.core.retrieval.index import RetrievalError


def _vector(path: Path) -> np.ndarray:
    """One embedding: any array with a single non-singleton axis ((D,), (1, D), (1, D, 1, 1) as decoded)."""
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise RetrievalError(f"{path}: not a readable .npy array ({exc})") from None
    if not np.issubdtype(array.dtype, np.floating) or sum(side > 1 for side in array.shape) > 1:
        raise RetrievalError(f"{path}: expected one float vector, found {array.dtype} of shape {array.shape}")
    return array.reshape(-1)


def _item_id(path: Path, directory: Path, modality: str | None) -> str:
    """The path below ``directory`` without ``.npy``; ``<id>/<modality>.npy`` (``mm4m generate --out DIR/<id>``)
    is named ``<id>``."""
    relative = path.relative_to(directory).with_suffix("")
    if modality is not None and relative.name == modality and relative.parent != Path("."):
        relative = relative.parent
    return relative.as_posix()


def read_embedding_dir(directory: Path, *, modality: str | None = None) -> tuple[torch.Tensor, list[str]]:
    """Every ``.npy`` below ``directory`` (sorted by path) as one vector; all must have the same width."""
    files = sorted(directory.rglob("*.npy"))
    if not files:
        raise RetrievalError(f"embeddings directory {directory}: expected .npy vectors, found none")
    vectors = [_vector(files[0])]
    for path in files[1:]:
        vector = _vector(path)
        if vector.shape != vectors[0].shape:
            raise RetrievalError(f"{path}: expected a vector of width {vectors[0].shape[0]} like {files[0]}, found "
                                 f"{vector.shape[0]}")
        vectors.append(vector)
    ids = [_item_id(path, directory, modality) for path in files]
    return torch.from_numpy(np.stack(vectors).astype(np.float32)), ids


def read_embedding_array(path: Path, *, ids_file: Path | None = None) -> tuple[torch.Tensor, list[str]]:
    """An (N, D) ``.npy`` array; ids are the lines of ``ids_file`` or the row numbers."""
    if path.suffix.lower() != ".npy":
        raise RetrievalError(f"embeddings file {path}: expected an (N, D) .npy array, found {path.name}")
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise RetrievalError(f"{path}: not a readable .npy array ({exc})") from None
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.floating):
        raise RetrievalError(f"{path}: expected a float (N, D) array, found {array.dtype} of shape {array.shape}")
    if ids_file is None:
        return torch.from_numpy(array.astype(np.float32)), [str(row) for row in range(array.shape[0])]
    ids = [line.strip() for line in ids_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(ids) != array.shape[0]:
        raise RetrievalError(f"{ids_file}: expected {array.shape[0]} ids (one per row of {path.name}), found "
                             f"{len(ids)}")
    return torch.from_numpy(array.astype(np.float32)), ids


def read_embeddings(source: str | os.PathLike[str], *, ids_file: str | os.PathLike[str] | None = None,
                    modality: str | None = None) -> tuple[torch.Tensor, list[str]]:
    """Embeddings (N, D) and ids from a directory of vectors or an (N, D) file (see the two readers)."""
    source = Path(source)
    if source.is_dir():
        if ids_file is not None:
            raise RetrievalError(f"ids file {ids_file}: ids of a directory are its file paths; give an ids file only "
                                 f"with an (N, D) array")
        return read_embedding_dir(source, modality=modality)
    if not source.is_file():
        raise RetrievalError(f"embeddings {source} not found")
    return read_embedding_array(source, ids_file=None if ids_file is None else Path(ids_file))
