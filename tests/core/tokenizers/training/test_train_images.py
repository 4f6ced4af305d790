"""Training a tiny image tokenizer improves its reconstructions, and its outputs are usable as released files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from mm4m.core.tokenizers.neural import VQVAETokenizer, load_tokenizer
from mm4m.core.tokenizers.training import REPORT_FILE, TrainingConfig, TrainingReport, train_tokenizer
from mm4m.registry.default import get_registry

CONFIG = TrainingConfig(modality="tok_rgb@224", steps=80, batch_size=16, learning_rate=2e-3, device="cpu",
                        save_every=40, eval_samples=8, example_count=3)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, blob_images) -> tuple[TrainingReport, torch.Tensor]:
    images = blob_images(24)
    out = tmp_path_factory.mktemp("rgb_run")
    return train_tokenizer(CONFIG, images, out, show_progress=False), images


def test_training_measurably_improves_reconstruction(trained):
    report, _ = trained
    assert report.primary_metric == "psnr" and report.higher_is_better
    assert report.trained["psnr"] > report.untrained["psnr"] + 5.0
    assert report.trained["mse"] < report.untrained["mse"] / 3
    assert report.improved
    assert report.loss_curve[-1] < report.loss_curve[0]
    assert len(report.loss_curve) == CONFIG.steps // CONFIG.log_every


def test_report_json_on_disk_matches_the_returned_report(trained):
    report, _ = trained
    path = Path(report.checkpoint).parent / REPORT_FILE
    on_disk = TrainingReport.model_validate(json.loads(path.read_text()))
    assert on_disk == report
    assert set(on_disk.untrained) == set(on_disk.trained) == {"psnr", "mse"}


def test_examples_sheet_shows_input_untrained_and_trained_per_example(trained):
    report, _ = trained
    with Image.open(report.examples) as sheet:
        assert sheet.format == "PNG"
        assert sheet.size == (3 * 128, 18 + CONFIG.example_count * 128)


def test_trained_tokenizer_loads_in_the_released_format(trained):
    report, images = trained
    tokenizer = load_tokenizer(report.checkpoint, modality="tok_rgb@224",
                               normalization=get_registry().spec("tok_rgb@224").normalization)
    assert isinstance(tokenizer, VQVAETokenizer)
    assert tokenizer.vocab_size == 64
    ids = tokenizer.tokenize(images[:4])
    assert ids.shape == (4, 4, 4) and ids.dtype == torch.int64
    decoded = tokenizer.detokenize(ids)
    assert decoded.shape == images[:4].shape
    raw_mse = (decoded.clamp(0, 1) - images[:4]).pow(2).mean().item()
    assert raw_mse < report.untrained["mse"]


def test_the_modality_resolves_the_trained_tokenizer(trained):
    report, images = trained
    tokenizer = get_registry().get("tok_rgb@224").tokenizer(report.checkpoint)
    assert torch.equal(tokenizer.tokenize(images[:2]), load_tokenizer(report.checkpoint).tokenize(
        (images[:2] - 0.5) / 0.5))
