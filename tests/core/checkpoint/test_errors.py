"""Every way a checkpoint can be wrong gives an error naming the file and what was expected and found."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from mm4m.core.checkpoint import CheckpointDriftWarning, CheckpointError, StateDictMismatchError, load_fourm
from mm4m.core.checkpoint import save_checkpoint, save_pretrained
from mm4m.core.checkpoint.safetensors_file import header_metadata, write_tensors
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
    import mm4m.core.checkpoint.pretrained as pretrained

    def disk_full_midway(path, tensors, metadata):
        path.write_bytes(b"\0" * 1000)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pretrained, "write_safetensors_file", disk_full_midway)
    model = batches.tiny_model(seed=0, dim=16, depth=1, domains_in=["tok_depth@224"], domains_out=["tok_depth@224"])
    with pytest.raises(OSError) as info:
        save_pretrained(model, tmp_path / "out")
    assert info.value.errno == errno.ENOSPC and "No space left on device" in str(info.value)
    assert str(tmp_path / "out" / "model.safetensors") in str(info.value) and "nothing was saved" in str(info.value)
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

    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda *args, **kwargs: None)
    monkeypatch.setattr(huggingface_hub, "get_hf_file_metadata", lambda url, **kwargs: None)
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
    with pytest.raises(CheckpointError, match="no such file or directory"):
        resolve(tmp_path / "nope" / "x.safetensors")


def fail_if_called(*args, **kwargs):
    raise AssertionError(f"the hub was asked for {args}: a local path must never reach the hub")


@pytest.mark.parametrize("save", ["zip", "legacy-pickle"])
@pytest.mark.parametrize("name", ["model.pt", "model.bin", "renamed.safetensors"])
def test_a_pickle_checkpoint_is_named_as_such_and_never_unpickled(tmp_path, monkeypatch, save, name):
    import pickle

    path = tmp_path / name
    torch.save({"w": torch.zeros(3)}, path, _use_new_zipfile_serialization=save == "zip")
    for module, function in ((pickle, "load"), (pickle, "loads"), (torch, "load")):
        monkeypatch.setattr(module, function, fail_if_called)
    with pytest.raises(CheckpointError) as info:
        load_fourm(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "corrupt" not in message
    assert ("zip" if save == "zip" else "pickle") in message and "never unpickles" in message
    assert "torch.load(" in message and "weights_only=True" in message and "save_file(" in message


@pytest.mark.parametrize("text", ["no-such-dir/model.safetensors", "checkpoints/model", "no-such-dir/model.pt",
                                  "./no-such-dir/model", "a/b/c"])
def test_a_path_that_does_not_exist_is_named_at_once(text, tmp_path, monkeypatch):
    import huggingface_hub

    monkeypatch.chdir(tmp_path)
    (tmp_path / "checkpoints").mkdir()
    for function in ("hf_hub_download", "get_hf_file_metadata", "try_to_load_from_cache"):
        monkeypatch.setattr(huggingface_hub, function, fail_if_called)
    with pytest.raises(CheckpointError, match=f"^{text}: no such file or directory"):
        resolve(text)


def test_an_unreachable_hub_fails_at_once_in_one_line(monkeypatch):
    import huggingface_hub

    asked = []

    def unreachable(url, **kwargs):
        asked.append(url)
        raise ConnectionError("[Errno -2] Name or service not known")

    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda *args, **kwargs: None)
    monkeypatch.setattr(huggingface_hub, "get_hf_file_metadata", unreachable)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fail_if_called)
    with pytest.raises(CheckpointError) as info:
        resolve("no-such-org/model")
    message = str(info.value)
    assert message.startswith("no-such-org/model: ") and "\n" not in message
    assert "could not be fetched" in message and "Name or service not known" in message
    assert len(asked) == 1, "one metadata request, no retry loop"
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_offline_mode_fails_at_once_naming_the_id(tmp_path):
    code = "from mm4m.core.checkpoint.source import resolve; resolve('no-such-org/model')"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("mm4m.core.checkpoint.errors.CheckpointError: no-such-org/model: "), result.stderr
    assert "HF_HUB_OFFLINE" in last and "huggingface_hub.errors" not in result.stderr


def same_shapes_other_config(batches, heads: int):
    """Two tiny models whose weights have the same names and shapes: only ``num_heads`` tells them apart."""
    return batches.tiny_model(seed=heads, dim=16, depth=1, heads=heads, domains_in=["tok_depth@224"],
                              domains_out=["tok_depth@224"])


def test_a_failed_config_write_leaves_the_previous_pair(batches, tmp_path, monkeypatch):
    old, new = same_shapes_other_config(batches, 2), same_shapes_other_config(batches, 4)
    directory = save_pretrained(old, tmp_path / "pair")
    real_write_bytes = Path.write_bytes

    def config_write_fails(path, data):
        if "config.json" in path.name:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write_bytes(path, data)

    monkeypatch.setattr(Path, "write_bytes", config_write_fails)
    with pytest.raises(OSError, match="No space left on device"):
        save_pretrained(new, directory)
    monkeypatch.undo()
    loaded = load_fourm(directory)
    assert loaded.config.num_heads == 2
    assert all(torch.equal(a, b) for a, b in zip(old.state_dict().values(), loaded.state_dict().values()))
    assert sorted(p.name for p in directory.iterdir()) == ["config.json", "model.safetensors"]


def test_weights_and_config_from_different_saves_are_refused(batches, tmp_path):
    old = save_pretrained(same_shapes_other_config(batches, 2), tmp_path / "old")
    new = save_pretrained(same_shapes_other_config(batches, 4), tmp_path / "new")
    (old / "model.safetensors").write_bytes((new / "model.safetensors").read_bytes())
    with pytest.raises(CheckpointError) as info:
        load_fourm(old)
    message = str(info.value)
    assert str(old / "config.json") in message and str(old / "model.safetensors") in message
    assert "num_heads" in message and "2" in message and "4" in message


WRITE_PAST_LIMIT = """
import resource, signal, sys
from pathlib import Path
import torch
from mm4m.core.checkpoint.safetensors_file import write_tensors

target, mode = Path(sys.argv[1]), sys.argv[2]
write_tensors(target, {"old": torch.zeros(4)}, {})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN if mode == "error" else signal.SIG_DFL)
resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    write_tensors(target, {"new": torch.zeros(1_000_000)}, {})
except OSError as exc:
    print(type(exc).__name__, exc.errno, exc)
"""


def save_past_the_file_size_limit(target: Path, mode: str) -> subprocess.CompletedProcess:
    """Save 4 MB with a 100 kB file-size limit: ``error`` gets EFBIG mid-write, ``kill`` is killed by SIGXFSZ."""
    return subprocess.run([sys.executable, "-c", WRITE_PAST_LIMIT, str(target), mode], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.skipif(os.name != "posix", reason="file-size limits are POSIX")
def test_a_write_that_fails_midway_names_the_path_and_leaves_the_old_file(tmp_path):
    target = tmp_path / "m.safetensors"
    result = save_past_the_file_size_limit(target, "error")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"OSError {errno.EFBIG} ") and str(target) in result.stdout
    assert "File too large" in result.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]
    assert list(load_file(str(target))) == ["old"]


@pytest.mark.skipif(os.name != "posix", reason="file-size limits are POSIX")
def test_a_killed_save_leaves_one_recognisable_temp_that_the_next_save_removes(tmp_path):
    target = tmp_path / "m.safetensors"
    result = save_past_the_file_size_limit(target, "kill")
    assert result.returncode == -signal.SIGXFSZ, result.stderr
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != target.name)
    assert len(left) == 1 and left[0].startswith(".m.safetensors.mm4m-partial."), left
    write_tensors(target, {"w": torch.zeros(2)}, {})
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]
