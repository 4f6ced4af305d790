"""The mm4m command line: listing from manifests only, info, exit codes, and no torch on the listing path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mm4m.cli.main import main
from mm4m.registry.catalog import build_catalog

REPO = Path(__file__).resolve().parents[2]


def mm4m(*args: str, env: dict | None = None, python_args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MM4M_")} | (env or {})
    return subprocess.run([sys.executable, *python_args, "-m", "mm4m", *args], capture_output=True, text=True,
                          env=environment, timeout=120)


def imported_modules(stderr: str) -> set[str]:
    return {line.split("|")[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def test_list_modalities_json_shows_every_installed_spec():
    result = mm4m("list-modalities", "--json")
    assert result.returncode == 0 and result.stderr == ""
    listed = {entry["key"]: entry for entry in json.loads(result.stdout)}
    catalog = build_catalog()
    assert set(listed) == set(catalog.entries) and len(listed) == 25
    for key, entry in catalog.entries.items():
        assert {k: listed[key][k] for k in entry.spec} == entry.spec
        assert listed[key]["distribution"] == entry.distribution
    assert (listed["tok_dinov2@224"]["vocab_size"], listed["tok_dinov2@224"]["max_tokens"]) == (8192, 256)


def test_list_modalities_table_when_piped(capsys):
    assert main(["list-modalities"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["KEY", "KIND", "VOCAB", "MAX", "TOKENS", "IN/OUT", "DECODING", "PLUGIN"]
    row = next(line for line in lines if line.startswith("tok_depth@224 "))
    assert row.split() == ["tok_depth@224", "image_tokens", "8192", "196", "in,out", "roar",
                           "mm4m-modality-depth", "0.1.0"]


def test_info_shows_the_full_spec(capsys):
    assert main(["info", "tok_depth@224", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["modality_id"] == 20063 and data["max_tokens"] == 196 and data["patch_size"] == 16
    assert data["tokenizer"] == {"family": "divae", "id": "divae-depth-8k"}
    assert main(["info", "human_poses"]) == 0
    text = capsys.readouterr().out
    assert "max_positions" in text and "263" in text and "mm4m-modality-human-poses" in text


def test_unknown_key_exits_1_with_one_line():
    result = mm4m("info", "tok_dpeth@224")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "unknown modality 'tok_dpeth@224'" in result.stderr and "tok_depth@224" in result.stderr


def test_usage_errors_exit_2():
    assert mm4m("list-everything").returncode == 2


@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_listing_never_imports_torch_or_plugin_code(tmp_path, cache):
    env = {"MM4M_CACHE_DIR": str(tmp_path)}
    if cache == "warm":
        assert mm4m("list-modalities", env=env).returncode == 0
    result = mm4m("list-modalities", env=env, python_args=("-X", "importtime"))
    assert result.returncode == 0
    modules = imported_modules(result.stderr)
    assert "mm4m.registry.catalog" in modules, "importtime output not parsed"
    assert not {m for m in modules if m == "torch" or m.startswith("torch.")}
    assert not {m for m in modules if m.startswith("mm4m_modality_")}
    if cache == "warm":
        assert "pydantic" not in modules, "a warm listing must not need validation"


def test_cache_is_invalidated_when_a_manifest_changes(tmp_path, monkeypatch):
    from mm4m.registry import catalog as catalog_module

    monkeypatch.setenv("MM4M_CACHE_DIR", str(tmp_path))
    first = catalog_module.load_catalog()
    manifest = Path(next(p.manifest for p in first.plugins if p.distribution == "mm4m-modality-caption"))
    stat = manifest.stat()
    cached = catalog_module._read_cache(catalog_module._cache_file())
    assert cached == first
    os.utime(manifest, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    try:
        assert catalog_module._read_cache(catalog_module._cache_file()) is None
    finally:
        os.utime(manifest, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_a_corrupt_cache_is_rebuilt(tmp_path, monkeypatch):
    from mm4m.registry import catalog as catalog_module

    monkeypatch.setenv("MM4M_CACHE_DIR", str(tmp_path))
    good = catalog_module.load_catalog()
    catalog_module._cache_file().write_text('{"fingerprint": ')
    assert catalog_module.load_catalog() == good


def test_closed_output_pipe_gives_no_traceback():
    code = ("import os, sys; r, w = os.pipe(); os.close(r); os.dup2(w, 1);"
            "from mm4m.cli.main import main; sys.exit(main(['list-modalities', '--json']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 141
    assert result.stderr == ""


def test_plugins_and_doctor_report_a_healthy_install():
    plugins = mm4m("plugins", "--json")
    assert plugins.returncode == 0
    rows = json.loads(plugins.stdout)
    assert len(rows) == 19 and {row["status"] for row in rows} == {"ok"}
    doctor = mm4m("doctor")
    assert doctor.returncode == 0 and "torch" in doctor.stdout and "problems          0" in doctor.stdout


@pytest.mark.parametrize(("selection", "expected"), [
    ("", "MM4M_PLUGINS is set but empty, so no plugin is loaded"),
    ("dpeth", "MM4M_PLUGINS='dpeth': 'dpeth' (did you mean 'depth'?) matches no installed plugin, so no plugin is "
              "loaded"),
    ("no:dpeth", "MM4M_PLUGINS='no:dpeth': 'dpeth' (did you mean 'depth'?) matches no installed plugin"),
    ("depth,captoin", "MM4M_PLUGINS='depth,captoin': 'captoin' (did you mean 'caption'?) matches no installed plugin"),
])
def test_a_selection_that_matches_nothing_is_named(selection, expected):
    listing = mm4m("list-modalities", env={"MM4M_PLUGINS": selection, "MM4M_NO_CACHE": "1"})
    assert listing.returncode == 0, "listing reports selection problems like plugin failures: a warning"
    assert listing.stderr.startswith(f"mm4m: {expected}") and listing.stderr.count("\n") == 1
    doctor = mm4m("doctor", env={"MM4M_PLUGINS": selection, "MM4M_NO_CACHE": "1"})
    assert doctor.returncode == 1 and f"mm4m: {expected}" in doctor.stderr
    assert "problems          1" in doctor.stdout


def test_a_matching_selection_says_nothing():
    result = mm4m("list-modalities", env={"MM4M_PLUGINS": "depth,mm4m-modality-caption", "MM4M_NO_CACHE": "1"})
    assert result.returncode == 0 and result.stderr == ""
    assert "tok_depth@224" in result.stdout and "caption" in result.stdout


@pytest.mark.parametrize(("selection", "fix"), [("no:depth", "remove 'no:depth' from MM4M_PLUGINS"),
                                                ("caption", "add 'depth' to MM4M_PLUGINS")])
def test_info_on_a_disabled_plugin_says_it_is_disabled(selection, fix):
    result = mm4m("info", "tok_depth@224", env={"MM4M_PLUGINS": selection, "MM4M_NO_CACHE": "1"})
    assert result.returncode == 1 and result.stdout == ""
    assert "pip install" not in result.stderr
    assert (f"mm4m: modality 'tok_depth@224' is not available: its plugin mm4m-modality-depth 0.1.0 is installed "
            f"but not loaded because of MM4M_PLUGINS='{selection}'; {fix}") in result.stderr
