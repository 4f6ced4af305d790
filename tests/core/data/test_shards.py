"""The sharded dataset format: round trips, the index, and errors that name the broken file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mm4m.core.data.shard_index import INDEX_NAME, ModalityLayout, ShardError, ShardIndex
from mm4m.core.data.shards import ShardedDataset, ShardWriter, file_sha256

LAYOUTS = {
    "tok_depth@224": ModalityLayout(dtype="int16", sample_shape=(196,)),
    "caption": ModalityLayout(dtype="int32", sample_shape=(-1,), ragged=True),
    "t5_caption": ModalityLayout(dtype="float32", sample_shape=(-1, 8), ragged=True),
}


def make_samples(count: int, seed: int = 0) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [{"tok_depth@224": rng.integers(0, 8192, 196),
             "caption": rng.integers(0, 30000, int(rng.integers(0, 12))),
             "t5_caption": rng.standard_normal((int(rng.integers(1, 6)), 8)).astype(np.float32)}
            for _ in range(count)]


@pytest.fixture
def written(tmp_path):
    samples = make_samples(11)
    with ShardWriter(tmp_path / "ds", LAYOUTS, samples_per_shard=4) as writer:
        for sample in samples:
            writer.add(sample)
    return tmp_path / "ds", samples


def test_round_trip_keeps_every_value_dtype_and_order(written):
    directory, samples = written
    dataset = ShardedDataset(directory)
    assert len(dataset) == 11
    for i, sample in enumerate(samples):
        got = dataset[i]
        assert got["tok_depth@224"].dtype == torch.int16
        for key, value in sample.items():
            np.testing.assert_array_equal(got[key].numpy(), value)


def test_index_lists_shards_counts_and_checksums(written):
    directory, _ = written
    index = json.loads((directory / INDEX_NAME).read_text())
    assert index["format"] == "mm4m-shards" and index["version"] == 1
    assert [s["num_samples"] for s in index["shards"]] == [4, 4, 3]
    assert index["modalities"]["caption"] == {"dtype": "int32", "sample_shape": [-1], "ragged": True}
    for shard in index["shards"]:
        assert shard["sha256"] == file_sha256(directory / shard["file"])
    assert not [p for p in directory.iterdir() if p.name.startswith(".")], "temp files left behind"


def test_missing_shard_is_an_error_naming_the_file(written):
    directory, _ = written
    (directory / "shard-000001.safetensors").unlink()
    dataset = ShardedDataset(directory)
    dataset[0]  # shard 0 is fine
    with pytest.raises(ShardError, match=r"shard-000001\.safetensors: shard file is missing"):
        dataset[5]


def test_flipped_byte_is_an_error_naming_the_file(written):
    directory, _ = written
    path = directory / "shard-000002.safetensors"
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ShardError, match=r"shard-000002\.safetensors: corrupt shard: sha256"):
        ShardedDataset(directory)[9]
    with pytest.raises(ShardError, match=r"shard-000002\.safetensors"):
        ShardedDataset(directory).verify()


def test_truncated_shard_is_caught_even_without_checksums(written):
    directory, _ = written
    path = directory / "shard-000000.safetensors"
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ShardError, match=r"shard-000000\.safetensors: corrupt shard"):
        ShardedDataset(directory, verify_checksums=False)[0]


def test_shard_that_disagrees_with_the_index_is_refused(written, tmp_path):
    directory, _ = written
    index = ShardIndex.read(directory)
    data = index.model_dump(mode="json")
    data["modalities"]["tok_depth@224"] = {"dtype": "int16", "sample_shape": [100]}
    wrong = data
    (directory / INDEX_NAME).write_text(json.dumps(wrong))
    with pytest.raises(ShardError, match=r"shard-000000\.safetensors: tensor 'tok_depth@224' is I16 \[4, 196\]"):
        ShardedDataset(directory, verify_checksums=False)[0]


def test_unfinished_dataset_has_no_index(tmp_path):
    with pytest.raises(RuntimeError):
        with ShardWriter(tmp_path / "ds", LAYOUTS, samples_per_shard=2) as writer:
            for sample in make_samples(3):
                writer.add(sample)
            raise RuntimeError("interrupted")
    assert (tmp_path / "ds" / "shard-000000.safetensors").is_file()
    with pytest.raises(ShardError, match=r"ds/index\.json: dataset index not found"):
        ShardedDataset(tmp_path / "ds")


def test_corrupt_index_names_the_file(written):
    directory, _ = written
    (directory / INDEX_NAME).write_text("{not json")
    with pytest.raises(ShardError, match=r"index\.json: corrupt dataset index"):
        ShardedDataset(directory)
    (directory / INDEX_NAME).write_text(json.dumps({"modalities": {}, "shards": []}))
    with pytest.raises(ShardError, match=r"index\.json: invalid dataset index: modalities"):
        ShardedDataset(directory)


def test_writer_refuses_bad_samples_and_overwrites(written, tmp_path):
    directory, _ = written
    with pytest.raises(ShardError, match="a dataset already exists"):
        ShardWriter(directory, LAYOUTS)
    writer = ShardWriter(tmp_path / "other", LAYOUTS)
    sample = make_samples(1)[0]
    with pytest.raises(ShardError, match=r"expected modalities \['caption', 't5_caption', 'tok_depth@224'\]"):
        writer.add({"caption": sample["caption"]})
    with pytest.raises(ShardError, match=r"'tok_depth@224': values in \[0, 40000\] do not fit dtype int16"):
        writer.add({**sample, "tok_depth@224": np.full(196, 40000) * np.arange(196).clip(0, 1)})
    with pytest.raises(ShardError, match=r"'tok_depth@224': expected a sample of shape \[196\], found \[195\]"):
        writer.add({**sample, "tok_depth@224": np.zeros(195, dtype=np.int64)})
    with pytest.raises(ShardError, match=r"'t5_caption': expected a sample of shape \[-1, 8\], found \[3, 7\]"):
        writer.add({**sample, "t5_caption": np.zeros((3, 7), dtype=np.float32)})


def test_layout_validation():
    with pytest.raises(ValueError, match="ragged layout needs sample_shape"):
        ModalityLayout(dtype="int32", sample_shape=(5,), ragged=True)
    with pytest.raises(ValueError, match="must be positive"):
        ModalityLayout(dtype="int32", sample_shape=(0,))


class _FakeGridTokenizer:
    """Stands in for a neural tokenizer: (1, C, H, W) → (1, 14, 14) ids."""

    def tokenize(self, data: torch.Tensor) -> torch.Tensor:
        assert data.shape == (1, 1, 14, 14)
        return data.round().long().reshape(1, 14, 14)


def test_tokenize_to_shards_stores_grids_flat_text_ragged_and_raw_rows_as_float(tmp_path):
    from mm4m.core.data.tokenize import tokenize_to_shards
    from mm4m.registry import get_registry

    class Words:
        def tokenize(self, text: str) -> list[int]:
            return [300 + len(word) for word in text.split()]

    registry = get_registry()
    specs = {k: registry.spec(k) for k in ("tok_depth@224", "caption", "t5_caption")}
    raw = [{"tok_depth@224": np.full((1, 14, 14), i), "caption": "a cat" * (i + 1),
            "t5_caption": np.ones((i + 1, 4096))} for i in range(3)]
    index = tokenize_to_shards(raw, specs, {"tok_depth@224": _FakeGridTokenizer(), "caption": Words(),
                                            "t5_caption": None}, tmp_path / "ds", samples_per_shard=2)
    assert index.modalities["tok_depth@224"] == ModalityLayout(dtype="int16", sample_shape=(196,))
    assert index.modalities["caption"].ragged and index.modalities["caption"].dtype == "int16"
    assert index.modalities["t5_caption"] == ModalityLayout(dtype="float32", sample_shape=(-1, 4096), ragged=True)
    sample = ShardedDataset(tmp_path / "ds")[2]
    assert sample["tok_depth@224"].tolist() == [2] * 196
    assert sample["caption"].tolist() == [301, 304, 304, 303]  # "a cata cata cat"
    assert sample["t5_caption"].shape == (3, 4096)
