"""Two CPU processes (torchrun, gloo): DDP matches one process with the same global batch; FSDP2 matches DDP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mm4m.core.checkpoint.safetensors_file import load_tensors
from mm4m.core.training.checkpoints import MODEL_FILE, checkpoint_dir
from mm4m.core.training.config import TrainConfig
from mm4m.core.training.trainer import train

from .helpers import logged_losses, tiny_config_dict, write_config

WORKER = Path(__file__).with_name("train_worker.py")
STEPS = 4


def torchrun(config: Path, processes: int = 2) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(processes),
               "--standalone", str(WORKER), str(config), str(STEPS)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-4000:]


def two_process_run(token_dataset: Path, tmp_path: Path, strategy: str) -> Path:
    output = tmp_path / strategy
    config = tiny_config_dict(token_dataset, output, batch={"batch_size": 2}, run={"distributed": strategy})
    torchrun(write_config(tmp_path / f"{strategy}.yaml", config))
    return output


@pytest.fixture(scope="module")
def single_process(token_dataset: Path, tmp_path_factory) -> Path:
    """The same global batch of 4 in one process: 2 samples × 2 accumulated micro-batches."""
    output = tmp_path_factory.mktemp("single") / "run"
    config = tiny_config_dict(token_dataset, output, batch={"batch_size": 2, "accumulation_steps": 2})
    train(TrainConfig.parse(config), stop_at_step=STEPS)
    return output


@pytest.fixture(scope="module")
def ddp_run(token_dataset: Path, tmp_path_factory) -> Path:
    return two_process_run(token_dataset, tmp_path_factory.mktemp("ddp"), "ddp")


def test_ddp_losses_and_weights_equal_one_process_with_the_same_global_batch(single_process, ddp_run):
    single, ddp = logged_losses(single_process), logged_losses(ddp_run)
    assert len(single) == len(ddp) == STEPS
    torch.testing.assert_close(torch.tensor(ddp), torch.tensor(single), rtol=1e-5, atol=1e-6)
    ours = load_tensors(checkpoint_dir(ddp_run, STEPS) / MODEL_FILE)
    reference = load_tensors(checkpoint_dir(single_process, STEPS) / MODEL_FILE)
    assert ours.keys() == reference.keys()
    for name, tensor in reference.items():
        torch.testing.assert_close(ours[name], tensor, rtol=1e-5, atol=1e-6, msg=name)


def test_fsdp2_runs_the_same_config_and_matches_ddp(token_dataset, tmp_path, ddp_run):
    fsdp = two_process_run(token_dataset, tmp_path, "fsdp")
    torch.testing.assert_close(torch.tensor(logged_losses(fsdp)), torch.tensor(logged_losses(ddp_run)),
                               rtol=1e-5, atol=1e-6)
    weights = load_tensors(checkpoint_dir(fsdp, STEPS) / MODEL_FILE)
    reference = load_tensors(checkpoint_dir(ddp_run, STEPS) / MODEL_FILE)
    for name, tensor in reference.items():
        torch.testing.assert_close(weights[name], tensor, rtol=1e-5, atol=1e-6, msg=name)
