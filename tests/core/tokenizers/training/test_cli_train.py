"""``mm4m tokenizer train``: trains from a PNG directory, resumes, and reports problems in one line."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from PIL import Image

from mm4m.cli.tokenizer import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, MODEL_SIZES, add_parser
from mm4m.core.tokenizers.neural import load_tokenizer
from mm4m.core.tokenizers.training import ModelSize


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mm4m")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.run(args)


@pytest.fixture
def png_dir(tmp_path, blob_images):
    data = tmp_path / "data"
    data.mkdir()
    for index, image in enumerate(blob_images(8)):
        Image.fromarray((image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)).save(data / f"{index}.png")
    return data


def test_train_then_resume_to_more_steps(tmp_path, png_dir, capsys):
    out = tmp_path / "run"
    base = ["tokenizer", "train", "tok_rgb@224", "--data", str(png_dir), "--out", str(out), "--batch-size", "4",
            "--device", "cpu", "--no-progress", "--save-every", "3"]
    assert run([*base, "--steps", "6"]) == EXIT_OK
    printed = capsys.readouterr().out
    assert "psnr" in printed and str(out / "tokenizer.safetensors") in printed
    assert run([*base, "--steps", "9", "--resume"]) == EXIT_OK
    report = json.loads((out / "report.json").read_text())
    assert report["steps"] == 9 and report["modality"] == "tok_rgb@224"
    assert load_tokenizer(out / "tokenizer.safetensors").vocab_size == 64


def test_problems_are_one_line(tmp_path, png_dir, capsys):
    assert run(["tokenizer", "train", "tok_rgb@224", "--data", str(tmp_path / "absent"), "--out",
                str(tmp_path / "run"), "--no-progress"]) == EXIT_PROBLEM
    err = capsys.readouterr().err
    assert "data directory" in err and "not found" in err and err.count("\n") == 1
    assert run(["tokenizer", "train", "tok_rgb@224", "--data", str(png_dir), "--out", str(tmp_path / "run"),
                "--steps", "0"]) == EXIT_USAGE
    assert "invalid training settings: steps: Input should be greater than 0" in capsys.readouterr().err
    assert run(["tokenizer", "train", "nonexistent", "--data", str(png_dir), "--out", str(tmp_path / "run"),
                "--no-progress"]) == EXIT_PROBLEM
    assert "nonexistent" in capsys.readouterr().err


def test_size_choices_match_the_presets():
    assert MODEL_SIZES == tuple(size.value for size in ModelSize)
