"""Fixtures for the model tests: the golden reference files and tiny registry-built models."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

HERE = Path(__file__).parent


def _load_helper(name: str):
    spec = importlib.util.spec_from_file_location(f"mm4m_test_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


golden_forward = _load_helper("golden_forward")
GOLDEN_MODELS = {"swiglu": "forward_swiglu.safetensors", "gelu_qknorm": "forward_gelu_qknorm.safetensors"}


@pytest.fixture(scope="session")
def golden_dir(shared_dir: Path) -> Path:
    return shared_dir / golden_forward.GOLDEN


@pytest.fixture(scope="session")
def golden_checkpoints(golden_dir: Path, tmp_path_factory) -> dict[str, Path]:
    """The two reference checkpoints, gunzipped into a temp dir."""
    out = tmp_path_factory.mktemp("golden")
    return {name: golden_forward.gunzip_to(golden_dir / f"tiny4m_{name}.safetensors.gz",
                                           out / f"tiny4m_{name}.safetensors") for name in GOLDEN_MODELS}


@pytest.fixture(scope="session")
def golden_recomputed(shared_dir: Path, golden_checkpoints, tmp_path_factory) -> dict[str, dict[str, torch.Tensor]]:
    """Our outputs for every golden run, computed in a fresh process with the fixtures' CPU kernels.

    The fixtures were made with PyTorch's AVX2 kernels; a 30 000-way float32 log-sum-exp rounds
    differently (by ~1e-5) with AVX-512 kernels, so the process pins ``ATEN_CPU_CAPABILITY=avx2``.
    """
    out_dir = tmp_path_factory.mktemp("golden_out")
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "avx2", "OMP_NUM_THREADS": "1"}
    results = {}
    for name, fixture in GOLDEN_MODELS.items():
        out = out_dir / f"{name}.safetensors"
        subprocess.run([sys.executable, str(HERE / "golden_runner.py"), str(shared_dir), str(golden_checkpoints[name]),
                        fixture, str(out)], check=True, env=env)
        results[name] = load_file(out)
    return results


@pytest.fixture(scope="session")
def golden_tools():
    """The `golden_forward` helper module (fixture readers and the statistics recomputation)."""
    return golden_forward


@pytest.fixture(scope="session")
def golden_expected(golden_dir: Path) -> dict[str, dict[str, torch.Tensor]]:
    """The reference's forward fixture tensors, per golden model."""
    return {name: load_file(golden_dir / fixture) for name, fixture in GOLDEN_MODELS.items()}


@pytest.fixture(scope="session")
def batches():
    """The `batches` helper module: tiny models and random batches in the reference layouts."""
    return _load_helper("batches")
