"""Fixtures for the model tests: the golden reference files and tiny registry-built models."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from mm4m.core.model.fourm import FourM
from mm4m.testing.numerics import in_float64

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


@dataclass(frozen=True)
class GoldenRun:
    """One golden model's fixture tensors recomputed in float32 (ours) and in float64 (the truth)."""

    model: FourM
    ours: dict[str, torch.Tensor]
    truth: dict[str, torch.Tensor]
    truth_rows: dict[str, torch.Tensor]
    budgets: dict[str, dict[str, int]]


@pytest.fixture(scope="session")
def golden_runs(golden_dir: Path, golden_checkpoints) -> dict[str, GoldenRun]:
    """Every golden run, computed in this process with whatever CPU kernels it picks, and again in float64."""
    runs_by_model = golden_forward.manifest(golden_dir)["files"]
    results = {}
    for name, fixture in GOLDEN_MODELS.items():
        model = FourM.from_pretrained(golden_checkpoints[name]).eval()
        mod_dict = golden_forward.fixture_mod_dict(golden_dir, set(model.encoder_embeddings) | set(model.decoder_embeddings))
        budgets = runs_by_model[fixture]["runs"]
        ours, truth, rows = {}, {}, {}
        for run, budget in budgets.items():
            args = (budget["num_encoder_tokens"], budget["num_decoder_tokens"], run)
            ours.update(golden_forward.forward_stats(model, mod_dict, *args))
            truth.update(in_float64(lambda m, d: golden_forward.forward_stats(m, d, *args, rows_out=rows),  # noqa: B023
                                    model, mod_dict))
        results[name] = GoldenRun(model, ours, truth, rows, budgets)
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
