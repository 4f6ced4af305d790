"""An interrupted run resumed from its saved state ends bitwise identical to an uninterrupted one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from mm4m.core.tokenizers.training import TrainingConfig, TrainingError, TrainingStateError, train_tokenizer, trainer

CONFIG = TrainingConfig(modality="tok_rgb@224", steps=12, batch_size=4, device="cpu", save_every=4, log_every=3,
                        eval_samples=4, example_count=2)


class Interrupted(Exception):
    """Stands for a crash right after a state was saved."""


def interrupt_after(step: int, monkeypatch: pytest.MonkeyPatch) -> None:
    real_save = trainer.save_training_state

    def save_then_crash(directory, progress, **kwargs):
        real_save(directory, progress, **kwargs)
        if progress.step == step:
            raise Interrupted

    monkeypatch.setattr(trainer, "save_training_state", save_then_crash)


@pytest.fixture(scope="module")
def images(blob_images) -> torch.Tensor:
    return blob_images(8, seed=3)


@pytest.fixture(scope="module")
def uninterrupted(images, tmp_path_factory):
    return train_tokenizer(CONFIG, images, tmp_path_factory.mktemp("straight"), show_progress=False)


def test_resumed_run_equals_uninterrupted_run(images, uninterrupted, tmp_path, monkeypatch):
    with monkeypatch.context() as patch:
        interrupt_after(8, patch)
        with pytest.raises(Interrupted):
            train_tokenizer(CONFIG, images, tmp_path, show_progress=False)
    assert json.loads((tmp_path / "training-state.json").read_text())["step"] == 8
    torch.manual_seed(1234)  # the resumed run must not depend on the process's RNG
    resumed = train_tokenizer(CONFIG, images, tmp_path, resume=True, show_progress=False)
    straight, again = load_file(uninterrupted.checkpoint), load_file(resumed.checkpoint)
    assert straight.keys() == again.keys()
    assert all(torch.equal(straight[key], again[key]) for key in straight)
    assert resumed.untrained == uninterrupted.untrained
    assert resumed.trained == uninterrupted.trained
    assert resumed.loss_curve == uninterrupted.loss_curve


def test_state_holds_model_optimizer_codebook_and_rng(uninterrupted):
    run = Path(uninterrupted.checkpoint).parent
    progress = json.loads((run / "training-state.json").read_text())
    assert progress["step"] == CONFIG.steps and progress["config"]["modality"] == "tok_rgb@224"
    tensors = load_file(run / progress["tensors_file"])
    assert {"model.quantize._codebook.embed", "model.quantize._codebook.cluster_size", "rng.torch",
            "rng.data"} <= tensors.keys()
    assert any(key.endswith(".exp_avg_sq") for key in tensors)
    assert progress["optimizer_groups"][0]["betas"] == [0.9, 0.99]


def test_only_the_latest_state_file_is_kept(uninterrupted):
    run = Path(uninterrupted.checkpoint).parent
    assert [p.name for p in run.glob("training-state-*.safetensors")] == ["training-state-00000012.safetensors"]


def test_resuming_with_other_settings_names_the_differences(images, uninterrupted):
    run = Path(uninterrupted.checkpoint).parent
    changed = CONFIG.model_copy(update={"batch_size": 2, "seed": 5})
    with pytest.raises(TrainingStateError, match=r"batch_size: saved 4, given 2; seed: saved 0, given 5"):
        train_tokenizer(changed, images, run, resume=True, show_progress=False)


def test_a_longer_resumed_run_continues_from_the_saved_step(images, uninterrupted, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(Path(uninterrupted.checkpoint).parent, run)
    longer = train_tokenizer(CONFIG.model_copy(update={"steps": 15}), images, run, resume=True,
                             show_progress=False)
    assert longer.steps == 15 and longer.loss_curve[:4] == uninterrupted.loss_curve
    assert longer.untrained == uninterrupted.untrained


def test_existing_run_is_not_overwritten_without_resume(images, uninterrupted):
    run = Path(uninterrupted.checkpoint).parent
    with pytest.raises(TrainingError, match="already holds a training run: resume it or choose another"):
        train_tokenizer(CONFIG, images, run, show_progress=False)


def test_resume_without_a_state_is_an_error(images, tmp_path):
    with pytest.raises(TrainingStateError, match="no training state to resume"):
        train_tokenizer(CONFIG, images, tmp_path, resume=True, show_progress=False)
