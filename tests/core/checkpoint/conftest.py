"""Fixtures for the checkpoint tests: gunzipped reference checkpoints and the tiny-model helpers."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import pytest

MODEL_TESTS = Path(__file__).parents[1] / "model"


@pytest.fixture(scope="session")
def reference_checkpoints(shared_dir: Path, tmp_path_factory) -> dict[str, Path]:
    """The two official-format fixture checkpoints, gunzipped (read-only use)."""
    out = tmp_path_factory.mktemp("reference")
    paths = {}
    for name in ("swiglu", "gelu_qknorm"):
        dst = out / f"tiny4m_{name}.safetensors"
        dst.write_bytes(gzip.decompress((shared_dir / f"fixtures/4m-golden/tiny4m_{name}.safetensors.gz").read_bytes()))
        paths[name] = dst
    return paths


@pytest.fixture(scope="session")
def batches():
    """Tiny registry-built models and random batches (shared with the model tests)."""
    spec = importlib.util.spec_from_file_location("mm4m_test_batches", MODEL_TESTS / "batches.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
