"""``mm4m generate``: inputs from files and text, outputs written to a directory, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from mm4m.cli.generate import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE
from mm4m.core.tokenizers.text import TOKENIZER_PATH_ENV


@pytest.fixture
def text_tokenizer(shared_dir, monkeypatch):
    monkeypatch.delenv(TOKENIZER_PATH_ENV, raising=False)
    return str(shared_dir / "fixtures/tokenizers/text_tokenizer_4m_wordpiece_30k.json")


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    path = tmp_path_factory.mktemp("images") / "photo.png"
    pixels = np.random.default_rng(0).integers(0, 256, size=(180, 260, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return str(path)


def test_generates_depth_tokens_and_a_prompted_caption(run, tiny4m_checkpoint, photo, text_tokenizer, tmp_path, capsys):
    out = tmp_path / "out"
    code = run(["generate", "--model", tiny4m_checkpoint, "--input", f"rgb@224={photo}", "--input",
                "caption=a red car [S_1]", "--target", "tok_depth@224", "--target", "caption", "--tokenizer",
                f"caption={text_tokenizer}", "--out", str(out), "--seed", "0", "--device", "cpu"])
    assert code == EXIT_OK
    assert sorted(p.name for p in out.iterdir()) == ["caption.txt", "generation.json", "tok_depth@224.tokens.json"]
    caption = (out / "caption.txt").read_text()
    assert caption.startswith("a red car")
    ids = json.loads((out / "tok_depth@224.tokens.json").read_text())
    assert ids["format"] == "mm4m-token-ids" and ids["modality"] == "tok_depth@224" and ids["shape"] == [1, 196]
    printed = capsys.readouterr()
    assert caption[:40] in printed.out and "196 tokens" in printed.out and printed.err == ""

    again = tmp_path / "again"
    assert run(["generate", "--model", tiny4m_checkpoint, "--input", f"rgb@224={photo}", "--input",
                "caption=a red car [S_1]", "--target", "tok_depth@224", "--target", "caption", "--tokenizer",
                f"caption={text_tokenizer}", "--out", str(again), "--seed", "0", "--device", "cpu"]) == EXIT_OK
    assert (again / "caption.txt").read_text() == caption
    assert (again / "tok_depth@224.tokens.json").read_text() == (out / "tok_depth@224.tokens.json").read_text()


def test_plan_file_sets_the_targets_and_schedule(run, tiny4m_checkpoint, photo, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text("conditions: [rgb@224]\ntargets:\n  - {domain: tok_depth@224, scheme: maskgit, steps: 4}\n"
                    "seed: 2\n")
    out = tmp_path / "out"
    assert run(["generate", "--model", tiny4m_checkpoint, "--input", f"rgb@224={photo}", "--plan", str(plan),
                "--out", str(out), "--device", "cpu"]) == EXIT_OK
    summary = json.loads((out / "generation.json").read_text())
    assert summary["seed"] == 2
    assert [step["num_tokens"] for step in summary["schedule"]] == [29, 69, 69, 29]


@pytest.mark.parametrize(("argv", "message"), [
    (["--input", "rgb@224=PHOTO", "--target", "tok_normal@224"],
     "generate: target 'tok_normal@224': the checkpoint has no target 'tok_normal@224'"),
    (["--input", "rgb@224=PHOTO", "--target", "tok_dpth@224"], "unknown modality 'tok_dpth@224'"),
    (["--input", "rgb@224=PLAN", "--target", "tok_depth@224"],
     "generate: input 'rgb@224': expected a PNG or .npy sample, found plan.yaml"),
    (["--input", "tok_rgb@224=PHOTO", "--target", "tok_depth@224"],
     "needs its checkpoint: pass the path of its released .safetensors file (--tokenizer tok_rgb@224=PATH)"),
    (["--input", "rgb@224=PHOTO", "--target", "caption"], "generate: target 'caption' needs a tokenizer"),
    (["--input", "rgb@224=PHOTO", "--plan", "PLAN", "--target", "caption"],
     "targets ['caption'] differ from the plan's targets ['tok_depth@224']"),
])
def test_problems_are_one_line(run, tiny4m_checkpoint, photo, text_tokenizer, tmp_path, capsys, argv, message):
    plan = tmp_path / "plan.yaml"
    plan.write_text("targets: [tok_depth@224]\n")
    argv = [a.replace("PHOTO", photo).replace("PLAN", str(plan)) for a in argv]
    out = tmp_path / "out"
    assert run(["generate", "--model", tiny4m_checkpoint, *argv, "--out", str(out), "--device", "cpu"]) == EXIT_PROBLEM
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize(("argv", "message"), [
    (["--input", "rgb@224"], "--input 'rgb@224': expected KEY=VALUE"),
    (["--input", "caption=a", "--input", "caption=b"], "--input: modality 'caption' given twice"),
])
def test_usage_errors(run, tmp_path, capsys, argv, message):
    model = str(tmp_path / "never-read.safetensors")
    assert run(["generate", "--model", model, *argv, "--target", "caption", "--out", str(tmp_path)]) == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_progress_display_on_a_terminal(run, tiny4m_checkpoint, photo, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("mm4m.cli.output.use_rich", lambda stream=None: True)
    assert run(["generate", "--model", tiny4m_checkpoint, "--input", f"rgb@224={photo}", "--target", "tok_depth@224",
                "--out", str(tmp_path), "--device", "cpu"]) == EXIT_OK
    assert "tok_depth@224" in capsys.readouterr().out
