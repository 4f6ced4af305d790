"""Shared fixtures: the reference tokenizer fixtures (gunzipped to a temp dir), their I/O tensors, test presets."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from . import fixture_bounds, fixture_presets

MODELS = ("semseg_tiny", "featmap_tiny", "sam_tiny", "global_tiny", "divae_tiny")


@pytest.fixture(autouse=True)
def _float32_without_tf32():
    """Reference comparisons run in true float32 (TF32 off where a GPU has it); any thread count will do."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


@pytest.fixture(scope="session")
def tok_dir(shared_dir: Path) -> Path:
    return shared_dir / "fixtures" / "tokenizers"


@pytest.fixture(scope="session")
def manifest(tok_dir: Path) -> dict:
    """manifest.json; registering its test-only presets makes the tiny checkpoints loadable."""
    data = json.loads((tok_dir / "manifest.json").read_text())
    fixture_presets.register_presets(data)
    return data


@pytest.fixture(scope="session")
def checkpoints(tok_dir: Path, manifest: dict, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Plain safetensors copies of the gzipped fixture checkpoints (never written into the shared folder)."""
    out = tmp_path_factory.mktemp("tokenizer_checkpoints")
    paths = {}
    for name in MODELS:
        path = out / f"{name}.safetensors"
        path.write_bytes(gzip.decompress((tok_dir / f"{name}.safetensors.gz").read_bytes()))
        paths[name] = path
    return paths


@pytest.fixture(scope="session")
def tok_io(tok_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(tok_dir / "tok_io.safetensors"))


@pytest.fixture(scope="session")
def bounds():
    """The `fixture_bounds` helper module: float64 truths and float32 bounds for the tokenizer fixtures."""
    return fixture_bounds
