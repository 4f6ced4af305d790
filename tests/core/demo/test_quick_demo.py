"""The whole `mm4m demo --quick` run: it finishes, writes its folder atomically and beats every baseline."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from rich.console import Console

from mm4m.core.demo import DemoConfig, DemoReport, run_demo
from mm4m.registry.default import get_registry

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> tuple[DemoReport, object, str]:
    out = tmp_path_factory.mktemp("demo") / "run"
    progress = io.StringIO()
    report = run_demo(DemoConfig.preset_config("quick", seed=0), out, console=Console(file=progress, width=120))
    return report, out, progress.getvalue()


def test_the_learned_model_beats_every_baseline(quick_run):
    report, _, _ = quick_run
    losing = [f"{s.task} {s.metric}: 4M {s.model:.3f}, baseline {s.baseline:.3f} ({s.baseline_name})"
              for s in report.scores if s.primary and not s.beats_baseline]
    assert not losing, losing
    assert report.beats_baselines


def test_training_lowered_the_loss(quick_run):
    report, _, _ = quick_run
    first, last = report.training_loss
    assert last < 0.6 * first


def test_the_folder_holds_the_report_figure_tokenizers_and_model(quick_run):
    report, out, _ = quick_run
    saved = json.loads((out / "report.json").read_text())
    assert saved["format"] == "mm4m-demo-report" and saved["beats_baselines"] is True
    assert [s["task"] for s in saved["scores"]] == [s.task for s in report.scores]
    with Image.open(out / "demo.png") as figure:
        assert figure.width > 6 * 128 and figure.height > report.config.shown_examples * 128
    for name in ("tokenizers/scene_caption_wordpiece.json", "tokenizers/tok_rgb-64/tokenizer.safetensors",
                 "tokenizers/tok_depth-64/tokenizer.safetensors", "tokenizers/tok_semseg-64/tokenizer.safetensors",
                 "dataset/index.json", "model/config.yaml", "model/metrics.jsonl"):
        assert (out / name).is_file(), name
    assert not list(out.parent.glob(".run.*")), "the staging folder was left behind"
    assert set(saved["files"]) == {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}


def test_progress_names_every_stage(quick_run):
    _, _, progress = quick_run
    for stage in ("render scenes", "fit tokenizers", "write training shards", "train the 4M",
                  "generate on held-out scenes", "score and draw"):
        assert stage in progress


def test_the_demo_modalities_are_unregistered_afterwards(quick_run):
    registry = get_registry()
    assert not {"rgb@64", "tok_rgb@64", "tok_depth@64", "tok_semseg@64", "scene_caption"} & set(registry.keys())
