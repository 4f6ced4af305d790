"""`RetrievalIndex` and the search backends: exact cosine neighbours, storage, errors."""

from __future__ import annotations

import importlib.machinery
import sys
import types

import numpy as np
import pytest
import torch

from mm4m.core.retrieval import RetrievalError, RetrievalIndex, SearchBackend
from mm4m.core.retrieval.index import INDEX_FORMAT

VECTORS = torch.tensor([[1.0, 0.0, 0.0],
                        [0.0, 2.0, 0.0],
                        [0.0, 0.0, 3.0],
                        [1.0, 1.0, 0.0]])
IDS = ["x", "y", "z", "xy"]


@pytest.fixture
def index() -> RetrievalIndex:
    return RetrievalIndex(vectors=VECTORS, ids=IDS, modality="tok_dinov2_global")


def test_nearest_neighbours_by_cosine(index):
    hits = index.search(torch.tensor([2.0, 0.1, 0.0]), k=3, backend=SearchBackend.EXACT)
    assert [hit.id for hit in hits] == ["x", "xy", "y"]
    expected = [2 / np.sqrt(4.01), 2.1 / np.sqrt(4.01) / np.sqrt(2), 0.1 / np.sqrt(4.01)]
    np.testing.assert_allclose([hit.score for hit in hits], expected, rtol=1e-6)


def test_length_does_not_matter_and_queries_batch(index):
    results = index.search_batch(torch.tensor([[0.0, 0.0, 0.5], [0.0, 7.0, 0.0]]), k=1,
                                 backend=SearchBackend.EXACT)
    assert [[(hit.id, pytest.approx(hit.score)) for hit in hits] for hits in results] == [[("z", 1.0)], [("y", 1.0)]]


def test_k_larger_than_the_index_returns_every_item(index):
    assert [hit.id for hit in index.search(torch.tensor([1.0, 1.0, 0.0]), k=10)] == ["xy", "x", "y", "z"]


def test_ties_keep_the_index_order():
    index = RetrievalIndex(vectors=torch.tensor([[0.0, 1.0], [1.0, 0.0], [2.0, 0.0]]), ids=["a", "b", "c"])
    assert [hit.id for hit in index.search(torch.tensor([1.0, 0.0]), k=2, backend=SearchBackend.EXACT)] == ["b", "c"]


def test_save_and_load_round_trip(index, tmp_path):
    path = index.save(tmp_path / "index.safetensors")
    assert [p.name for p in tmp_path.iterdir()] == ["index.safetensors"]
    loaded = RetrievalIndex.load(path)
    assert loaded.ids == IDS and loaded.modality == "tok_dinov2_global" and len(loaded) == 4 and loaded.dim == 3
    torch.testing.assert_close(loaded.vectors, index.vectors)
    torch.testing.assert_close(loaded.vectors.norm(dim=1), torch.ones(4))


def test_loading_another_file_is_an_error(tmp_path):
    from mm4m.core.checkpoint.safetensors_file import write_tensors

    other = tmp_path / "other.safetensors"
    write_tensors(other, {"vectors": torch.ones(1, 2)}, {"format": "mm4m-token-ids"})
    with pytest.raises(RetrievalError, match=rf"expected a retrieval index \(format '{INDEX_FORMAT}'\), found "
                                             "format 'mm4m-token-ids'"):
        RetrievalIndex.load(other)
    with pytest.raises(RetrievalError, match="index .*missing.safetensors not found"):
        RetrievalIndex.load(tmp_path / "missing.safetensors")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x01\x02")
    with pytest.raises(RetrievalError, match="not a readable retrieval index"):
        RetrievalIndex.load(garbage)


def test_invalid_indexes_are_refused():
    with pytest.raises(RetrievalError, match=r"ids must be unique, found repeated \['a'\]"):
        RetrievalIndex(vectors=torch.ones(3, 2), ids=["a", "b", "a"])
    with pytest.raises(RetrievalError, match=r"expected one id per vector \(3\), found 2"):
        RetrievalIndex(vectors=torch.ones(3, 2), ids=["a", "b"])
    with pytest.raises(RetrievalError, match=r"finite non-zero vectors, found zero or non-finite ones for ids \['b'\]"):
        RetrievalIndex(vectors=torch.tensor([[1.0, 0.0], [0.0, 0.0]]), ids=["a", "b"])
    with pytest.raises(RetrievalError, match=r"expected a float \(N, D\) tensor"):
        RetrievalIndex(vectors=torch.ones(3, dtype=torch.long), ids=["a", "b", "c"])


def test_invalid_queries_are_refused(index):
    with pytest.raises(RetrievalError, match=r"expected embeddings of width 3 \(the index's tok_dinov2_global\), "
                                             r"found shape \(1, 4\)"):
        index.search(torch.ones(4))
    with pytest.raises(RetrievalError, match=r"expected one embedding \(D,\), found shape \(2, 3\); use search_batch"):
        index.search(torch.ones(2, 3))
    with pytest.raises(RetrievalError, match="expected k >= 1, found 0"):
        index.search(torch.ones(3), k=0)
    with pytest.raises(RetrievalError, match="non-zero query"):
        index.search(torch.zeros(3))


@pytest.fixture
def fake_faiss(monkeypatch):
    """A stand-in ``faiss`` module with an inner-product flat index, recording that it was used."""
    module = types.ModuleType("faiss")
    module.__spec__ = importlib.machinery.ModuleSpec("faiss", None)
    module.calls = []

    class IndexFlatIP:
        def __init__(self, dim):
            self.rows = np.zeros((0, dim), dtype=np.float32)

        def add(self, rows):
            self.rows = np.concatenate([self.rows, rows])

        def search(self, queries, k):
            module.calls.append(k)
            scores = queries @ self.rows.T
            order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
            return np.take_along_axis(scores, order, axis=1), order

    module.IndexFlatIP = IndexFlatIP
    monkeypatch.setitem(sys.modules, "faiss", module)
    return module


def test_auto_uses_faiss_when_installed_with_the_same_neighbours(index, fake_faiss):
    query = torch.tensor([2.0, 0.1, 0.0])
    exact = index.search(query, k=3, backend=SearchBackend.EXACT)
    assert fake_faiss.calls == []
    assert index.search(query, k=3) == exact
    assert fake_faiss.calls == [3]


def test_faiss_backend_without_faiss_is_an_error(index, monkeypatch):
    monkeypatch.setattr("mm4m.core.retrieval.search.faiss_available", lambda: False)
    with pytest.raises(ModuleNotFoundError, match="needs the faiss package, which is not installed"):
        index.search(torch.ones(3), backend=SearchBackend.FAISS)
    assert [hit.id for hit in index.search(torch.tensor([1.0, 0.0, 0.0]), k=1)] == ["x"]
