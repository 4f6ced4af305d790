"""Every way a checkpoint can be wrong gives an error naming the file and what was expected and found."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from mm4m.core.checkpoint import CheckpointDriftWarning, CheckpointError, StateDictMismatchError, load_fourm
from mm4m.core.checkpoint import save_checkpoint, save_pretrained
from mm4m.core.checkpoint.safetensors_file import header_metadata
from mm4m.core.checkpoint.source import looks_like_hub_id, resolve
from mm4m.core.model.fourm import ModelBuildError
from mm4m.registry import get_registry


@pytest.fixture(scope="module")
def small_file(batches, tmp_path_factory) -> Path:
    model = batches.tiny_model(seed=0, dim=16, depth=1, domains_in=["rgb@224", "tok_depth@224"],
                               domains_out=["tok_depth@224"])
    return save_checkpoint(model, tmp_path_factory.mktemp("small") / "small.safetensors")


def rewrite(src: Path, dst: Path, edit_tensors=None, edit_metadata=None) -> Path:
    tensors, metadata = load_file(str(src)), header_metadata(src)
    if edit_tensors:
        edit_tensors(tensors)
    if edit_metadata:
        edit_metadata(metadata)
    save_file(tensors, str(dst), metadata=metadata)
    return dst


@pytest.mark.parametrize("cut", [4, 100, -64])
def test_truncated_or_corrupt_file_names_the_file(small_file, tmp_path, cut):
    bad = tmp_path / "bad.safetensors"
    data = small_file.read_bytes()
    bad.write_bytes(data[:cut] if cut > 0 else data[:cut])
    with pytest.raises(CheckpointError, match=str(bad)):
        load_fourm(bad)


def test_garbage_header_names_the_file(tmp_path):
    bad = tmp_path / "garbage.safetensors"
    bad.write_bytes((20).to_bytes(8, "little") + b"not json at all!!!!!" + b"\0" * 10)
    with pytest.raises(CheckpointError, match="garbage.safetensors.*not valid JSON"):
        load_fourm(bad)


def test_mismatches_are_listed_by_name(small_file, tmp_path):
    def edit(t):
        del t["encoder.0.attn.qkv.weight"]
        t["encoder.7.surprise"] = torch.zeros(1)
        t["decoder_norm.weight"] = torch.ones(17)

    bad = rewrite(small_file, tmp_path / "m.safetensors", edit_tensors=edit)
    with pytest.raises(StateDictMismatchError) as info:
        load_fourm(bad)
    message = str(info.value)
    assert "missing keys (1): encoder.0.attn.qkv.weight" in message
    assert "unexpected keys (1): encoder.7.surprise" in message
    assert "decoder_norm.weight: model expects (16,), checkpoint has (17,)" in message


def test_file_without_config_is_refused(small_file, tmp_path):
    bad = rewrite(small_file, tmp_path / "nocfg.safetensors", edit_metadata=lambda m: m.clear())
    with pytest.raises(CheckpointError, match="no model config"):
        load_fourm(bad)


def test_bad_config_value_names_the_field(small_file, tmp_path):
    bad = rewrite(small_file, tmp_path / "cfg.safetensors", edit_metadata=lambda m: m.update(num_heads="five"))
    with pytest.raises(CheckpointError, match="num_heads.*'five'"):
        load_fourm(bad)


def test_missing_plugin_names_the_pip_package(small_file, monkeypatch):
    registry = get_registry()
    monkeypatch.setattr(type(registry), "__contains__", lambda self, key: key != "tok_depth@224")
    with pytest.raises(ModelBuildError, match="pip install mm4m-modality-depth"):
        load_fourm(small_file)


def test_drift_of_spec_or_version_warns(small_file, tmp_path):
    def edit(m):
        hashes = json.loads(m["mm4m_spec_sha256"])
        hashes["tok_depth@224"] = "0" * 64
        m["mm4m_spec_sha256"] = json.dumps(hashes)
        m["mm4m_version"] = "0.0.1"

    drifted = rewrite(small_file, tmp_path / "drift.safetensors", edit_metadata=edit)
    with pytest.warns(CheckpointDriftWarning) as record:
        load_fourm(drifted)
    messages = " ".join(str(w.message) for w in record)
    assert "mm4m 0.0.1" in messages and "'tok_depth@224' spec changed" in messages


def test_directory_needs_both_files(small_file, tmp_path):
    (tmp_path / "model.safetensors").write_bytes(small_file.read_bytes())
    with pytest.raises(CheckpointError, match="config.json is missing"):
        load_fourm(tmp_path)


def test_failed_write_leaves_nothing_behind(batches, tmp_path, monkeypatch):
    import mm4m.core.checkpoint.safetensors_file as io

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(io, "save_file", explode)
    model = batches.tiny_model(seed=0, dim=16, depth=1, domains_in=["tok_depth@224"], domains_out=["tok_depth@224"])
    with pytest.raises(OSError, match="disk full"):
        save_pretrained(model, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("text, expected", [("apple/4M-21_B", True), ("a/b/c", False), ("./x/y", False),
                                            ("model.safetensors", False), ("/abs/path", False)])
def test_hub_id_shape(text, expected):
    assert looks_like_hub_id(text) == expected


def test_hub_id_downloads_config_and_weights(small_file, tmp_path, monkeypatch):
    """The hub path asks huggingface_hub for config.json and model.safetensors (no network: faked)."""
    import huggingface_hub

    hub_dir = save_pretrained(load_fourm(small_file), tmp_path / "hub")
    asked = []

    def fake_download(repo_id, filename, revision=None):
        asked.append((repo_id, filename, revision))
        return str(hub_dir / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    model = load_fourm("someone/tiny-4m", revision="main")
    assert asked == [("someone/tiny-4m", "config.json", "main"), ("someone/tiny-4m", "model.safetensors", "main")]
    assert list(model.decoder_embeddings) == ["tok_depth@224"]


def test_hub_id_without_the_extra_says_what_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "huggingface_hub" else real(name, *a))
    monkeypatch.delitem(sys.modules, "huggingface_hub", raising=False)
    with pytest.raises(CheckpointError, match="pip install huggingface_hub"):
        resolve("someone/tiny-4m")


def test_nonexistent_path_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint file or directory"):
        resolve(tmp_path / "nope" / "x.safetensors")
