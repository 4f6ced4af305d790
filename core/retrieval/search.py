"""Nearest neighbours by cosine similarity: exact with torch, or with faiss (``IndexFlatIP``) when installed."""

from __future__ import annotations

from enum import Enum
from importlib.util import find_spec

import numpy as np
import torch


class SearchBackend(str, Enum):
    """Which search runs: ``auto`` picks faiss when it is installed, else the exact torch search."""

    AUTO = "auto"
    EXACT = "exact"
    FAISS = "faiss"


def faiss_available() -> bool:
    """True when the optional ``faiss`` package can be imported."""
    return find_spec("faiss") is not None


def exact_top_k(vectors: torch.Tensor, queries: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Scores and row indices (Q, k) of the ``k`` best rows of ``vectors`` per query, by dot product of unit
    vectors; ties keep the index order."""
    scores = queries @ vectors.T
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices[:, :k]
    return scores.gather(1, order), order


def faiss_top_k(vectors: torch.Tensor, queries: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The same search through a faiss inner-product flat index (exact, faster on large indexes)."""
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors.numpy(), dtype=np.float32))
    scores, rows = index.search(np.ascontiguousarray(queries.numpy(), dtype=np.float32), k)
    return torch.from_numpy(scores), torch.from_numpy(rows).long()


def top_k(vectors: torch.Tensor, queries: torch.Tensor, k: int,
          backend: SearchBackend = SearchBackend.AUTO) -> tuple[torch.Tensor, torch.Tensor]:
    """Dispatch to the backend; ``faiss`` when it is not installed is an error."""
    backend = SearchBackend(backend)
    if backend is SearchBackend.FAISS and not faiss_available():
        raise ModuleNotFoundError("search backend 'faiss' needs the faiss package, which is not installed "
                                  "(pip install faiss-cpu), or use the exact backend")
    if backend is SearchBackend.EXACT or not faiss_available():
        return exact_top_k(vectors, queries, k)
    return faiss_top_k(vectors, queries, k)
