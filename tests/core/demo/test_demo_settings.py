"""Demo settings, the output folder's safety rules and the command line, without running the demo."""

from __future__ import annotations

import argparse
import json

import pytest
from pydantic import ValidationError

from mm4m.cli.demo import add_parser
from mm4m.core.demo import DemoConfig
from mm4m.core.demo.modalities import DemoKeys, DemoModalityError, demo_modalities, demo_specs
from mm4m.core.demo.output_dir import OutputDirError, staged_output
from mm4m.core.demo.report import REPORT_FILE, REPORT_FORMAT
from mm4m.core.spec import ModalitySpec
from mm4m.registry.default import get_registry


def test_presets_validate_and_accept_overrides():
    quick, full = DemoConfig.preset_config("quick"), DemoConfig.preset_config("full", seed=7)
    assert quick.preset == "quick" and full.seed == 7
    assert quick.train_steps < full.train_steps and quick.grid_tokens == 64


@pytest.mark.parametrize("overrides, field", [({"patch_size": 7}, "patch_size"), ({"num_heads": 5}, "num_heads"),
                                              ({"warmup_steps": 10_000}, "warmup_steps"),
                                              ({"unknown": 1}, "unknown")])
def test_inconsistent_settings_are_refused_by_name(overrides, field):
    with pytest.raises(ValidationError, match=field):
        DemoConfig.preset_config("quick", **overrides)


def test_demo_specs_are_valid_and_small():
    specs = [ModalitySpec.parse(spec) for spec in demo_specs(64, 8, 256, 4400)]
    assert [s.key for s in specs] == DemoKeys.for_size(64).inputs
    assert all(s.max_tokens == 64 for s in specs if s.kind.is_image)


def test_demo_modalities_are_registered_only_inside_the_block():
    registry = get_registry()
    with demo_modalities(32, 8, 64, 4300) as specs:
        assert set(specs) <= set(registry.keys())
        with pytest.raises(DemoModalityError, match="rgb@32"), demo_modalities(32, 8, 64, 4300):
            pass
    assert not set(specs) & set(registry.keys())


def test_staged_output_replaces_an_earlier_run_only_on_success(tmp_path):
    out = tmp_path / "demo"
    out.mkdir()
    (out / REPORT_FILE).write_text(json.dumps({"format": REPORT_FORMAT}))
    with pytest.raises(RuntimeError, match="boom"), staged_output(out, REPORT_FILE, REPORT_FORMAT) as staging:
        (staging / "half-written").write_text("x")
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"] and (out / REPORT_FILE).is_file()
    with staged_output(out, REPORT_FILE, REPORT_FORMAT) as staging:
        (staging / REPORT_FILE).write_text(json.dumps({"format": REPORT_FORMAT, "new": True}))
    assert json.loads((out / REPORT_FILE).read_text())["new"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_a_folder_that_is_not_a_demo_run_is_never_replaced(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputDirError, match="not an earlier demo run"), \
            staged_output(tmp_path, REPORT_FILE, REPORT_FORMAT):
        pass
    assert (tmp_path / "notes.txt").read_text() == "mine"


def _parse(argv):
    parser = argparse.ArgumentParser(prog="mm4m")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_command_line_options():
    args = _parse(["demo", "--quick", "--out", "runs/x", "--seed", "3", "--threads", "1"])
    assert (args.quick, str(args.out), args.seed, args.threads) == (True, "runs/x", 3, 1)
    assert _parse(["demo"]).quick is False


def test_command_refuses_a_foreign_output_folder_in_one_line(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    args = _parse(["demo", "--quick", "--out", str(tmp_path)])
    assert args.run(args) == 1
    err = capsys.readouterr().err
    assert "not an earlier demo run" in err and "Traceback" not in err


def test_command_reports_an_invalid_setting_by_name(tmp_path, capsys):
    args = _parse(["demo", "--quick", "--threads", "0", "--out", str(tmp_path / "run")])
    assert args.run(args) == 1
    assert "invalid setting threads" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
