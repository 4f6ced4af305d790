"""Shared fixtures: the reference tokenizer fixtures (gunzipped to a temp dir), their I/O tensors, test presets."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("mm4m_test_divae_golden_runner", HERE / "divae_golden_runner.py")
divae_golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(divae_golden)

MODELS = ("semseg_tiny", "featmap_tiny", "sam_tiny", "global_tiny", "divae_tiny")


@pytest.fixture(autouse=True)
def _deterministic_float32():
    """Reference comparisons run in float32 on one thread with TF32 off."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tok_dir(shared_dir: Path) -> Path:
    return shared_dir / "fixtures" / "tokenizers"


@pytest.fixture(scope="session")
def manifest(tok_dir: Path) -> dict:
    """manifest.json; registering its test-only presets makes the tiny checkpoints loadable."""
    data = json.loads((tok_dir / "manifest.json").read_text())
    divae_golden.register_presets(data)
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
def divae_recomputed(tok_dir: Path, checkpoints: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Our DiVAE fixture tensors, computed in a fresh process with the fixtures' CPU kernels.

    The fixtures were made with oneDNN's AVX2 convolution kernels; on an AVX-512 CPU oneDNN uses AVX-512 ones,
    which move the UNet outputs by up to ~1.6e-5 (float32 rounding), so the process pins ``ONEDNN_MAX_CPU_ISA=AVX2``
    (and ``ATEN_CPU_CAPABILITY=avx2``). Both are read once per process, hence the subprocess.
    """
    out = tmp_path_factory.mktemp("divae_golden") / "divae_tiny.safetensors"
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, str(HERE / "divae_golden_runner.py"), str(tok_dir), str(checkpoints["divae_tiny"]),
                    str(out)], check=True, env=env)
    return load_file(str(out))
