"""Reading index embeddings from a directory of vectors or an (N, D) array."""

from __future__ import annotations

import numpy as np
import pytest

from mm4m.core.retrieval import RetrievalError, read_embeddings


def test_directory_of_vectors_in_path_order(tmp_path):
    np.save(tmp_path / "b.npy", np.array([0.0, 1.0], dtype=np.float32))
    (tmp_path / "sub").mkdir()
    np.save(tmp_path / "sub" / "a.npy", np.array([[1.0], [2.0]], dtype=np.float32))
    np.save(tmp_path / "a.npy", np.array([3.0, 4.0]).reshape(1, 2, 1, 1))
    vectors, ids = read_embeddings(tmp_path)
    assert ids == ["a", "b", "sub/a"]
    np.testing.assert_array_equal(vectors.numpy(), [[3, 4], [0, 1], [1, 2]])


def test_generate_output_folders_are_named_by_folder(tmp_path):
    for name, value in (("img1", 1.0), ("img2", 2.0)):
        (tmp_path / name).mkdir()
        np.save(tmp_path / name / "tok_dinov2_global.npy", np.full((1, 3, 1, 1), value, dtype=np.float32))
    vectors, ids = read_embeddings(tmp_path, modality="tok_dinov2_global")
    assert ids == ["img1", "img2"] and vectors.shape == (2, 3)


def test_array_with_and_without_ids(tmp_path):
    np.save(tmp_path / "all.npy", np.eye(3, dtype=np.float32))
    assert read_embeddings(tmp_path / "all.npy")[1] == ["0", "1", "2"]
    (tmp_path / "ids.txt").write_text("cat\ndog\nowl\n")
    vectors, ids = read_embeddings(tmp_path / "all.npy", ids_file=tmp_path / "ids.txt")
    assert ids == ["cat", "dog", "owl"] and vectors.shape == (3, 3)
    (tmp_path / "short.txt").write_text("cat\n")
    with pytest.raises(RetrievalError, match=r"expected 3 ids \(one per row of all.npy\), found 1"):
        read_embeddings(tmp_path / "all.npy", ids_file=tmp_path / "short.txt")


def test_bad_embeddings_are_named(tmp_path):
    with pytest.raises(RetrievalError, match="embeddings .*nothing not found"):
        read_embeddings(tmp_path / "nothing")
    with pytest.raises(RetrievalError, match="expected .npy vectors, found none"):
        read_embeddings(tmp_path)
    np.save(tmp_path / "a.npy", np.ones(3, dtype=np.float32))
    np.save(tmp_path / "b.npy", np.ones(4, dtype=np.float32))
    with pytest.raises(RetrievalError, match="b.npy: expected a vector of width 3 like .*a.npy, found 4"):
        read_embeddings(tmp_path)
    np.save(tmp_path / "b.npy", np.ones((2, 3), dtype=np.float32))
    with pytest.raises(RetrievalError, match=r"b.npy: expected one float vector, found float32 of shape \(2, 3\)"):
        read_embeddings(tmp_path)
    with pytest.raises(RetrievalError, match=r"expected a float \(N, D\) array, found float32 of shape \(3,\)"):
        read_embeddings(tmp_path / "a.npy")
