"""Checkpoints and ``resume``: an interrupted run continues exactly like an uninterrupted one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from mm4m.core.checkpoint.safetensors_file import load_tensors
from mm4m.core.model.fourm import FourM
from mm4m.core.training.checkpoints import MODEL_FILE, ResumeError, checkpoint_dir, latest_checkpoint
from mm4m.core.training.config import TrainConfig
from mm4m.core.training.trainer import RunExistsError, train

from .helpers import logged_losses, tiny_config_dict, write_config

WORKER = Path(__file__).with_name("train_worker.py")
STEPS = 20  # the whole token budget of the tiny config


@pytest.fixture(scope="module")
def uninterrupted(token_dataset: Path, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("full") / "run"
    train(TrainConfig.parse(tiny_config_dict(token_dataset, output)))
    return output


def test_stop_and_resume_continues_the_loss_curve_exactly(token_dataset, tmp_path, uninterrupted):
    config = TrainConfig.parse(tiny_config_dict(token_dataset, tmp_path / "run"))
    first = train(config, stop_at_step=3)
    second = train(config, resume=True)
    assert (first.end_step, second.start_step, second.end_step) == (3, 3, STEPS)
    reference = logged_losses(uninterrupted)
    assert first.losses + second.losses == reference
    assert logged_losses(tmp_path / "run") == reference
    final, expected = load_tensors(checkpoint_dir(tmp_path / "run", STEPS) / MODEL_FILE), \
        load_tensors(checkpoint_dir(uninterrupted, STEPS) / MODEL_FILE)
    assert all(torch.equal(final[name], tensor) for name, tensor in expected.items())


def test_killed_process_resumes_identically(token_dataset, tmp_path, uninterrupted):
    config = write_config(tmp_path / "run.yaml", tiny_config_dict(token_dataset, tmp_path / "run"))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, str(WORKER), str(config)], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while (latest_checkpoint(tmp_path / "run") is None or latest_checkpoint(tmp_path / "run").name
               < "step-00000004") and process.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint at step 4 within two minutes"
            time.sleep(0.05)
        assert process.poll() is None, "the run ended before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    killed_at = latest_checkpoint(tmp_path / "run").name
    assert "step-00000004" <= killed_at < f"step-{STEPS:08d}"
    subprocess.run([sys.executable, str(WORKER), str(config), "--resume"], env=env, check=True)
    assert logged_losses(tmp_path / "run") == logged_losses(uninterrupted)
    assert not list((tmp_path / "run" / "checkpoints").glob(".*partial"))


def test_checkpoint_model_loads_with_from_pretrained(uninterrupted):
    model = FourM.from_pretrained(checkpoint_dir(uninterrupted, STEPS) / MODEL_FILE)
    assert model.config.dim == 32
    weights = load_tensors(checkpoint_dir(uninterrupted, STEPS) / MODEL_FILE)
    assert torch.equal(model.state_dict()["encoder.0.attn.qkv.weight"], weights["encoder.0.attn.qkv.weight"])


def test_checkpoint_holds_optimizer_rng_and_data_position(uninterrupted):
    folder = checkpoint_dir(uninterrupted, STEPS)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["model.safetensors", "optimizer.safetensors", "rng-rank0.safetensors", "trainer_state.json"]
    state = json.loads((folder / "trainer_state.json").read_text())
    assert (state["step"], state["global_batch_size"], state["dataset_samples"]) == (STEPS, 4, 24)
    assert {g["weight_decay"] for g in state["optimizer_param_groups"]} == {0.05, 0.0}
    moments = load_tensors(folder / "optimizer.safetensors")
    assert moments["encoder.0.attn.qkv.weight/exp_avg_sq"].shape == moments["encoder.0.attn.qkv.weight/exp_avg"].shape
    assert float(moments["encoder.0.attn.qkv.weight/step"]) == STEPS


def test_fresh_start_on_an_existing_run_and_a_changed_batch_are_refused(token_dataset, uninterrupted):
    config = TrainConfig.parse(tiny_config_dict(token_dataset, uninterrupted))
    with pytest.raises(RunExistsError, match="already has checkpoints .*pass --resume"):
        train(config)
    changed = TrainConfig.parse(tiny_config_dict(token_dataset, uninterrupted, batch={"batch_size": 2}))
    with pytest.raises(ResumeError, match="global_batch_size 4 in the checkpoint, 2 now"):
        train(changed, resume=True)


def test_metrics_and_loss_curve_are_written(uninterrupted):
    lines = [json.loads(line) for line in (uninterrupted / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == list(range(1, STEPS + 1))
    assert {"loss", "lr", "grad_norm", "tokens", "modalities"} <= lines[0].keys()
    assert lines[0]["lr"] == 0.0 and lines[3]["tokens"] == 4 * 4 * 48
    from PIL import Image

    with Image.open(uninterrupted / "loss_curve.png") as image:
        assert image.size == (800, 480)
