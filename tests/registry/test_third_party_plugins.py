"""Real throw-away plugin distributions, built and installed with pip into a temporary site directory:
a good one (with a tokenizer), one whose import fails, one with an invalid spec, one duplicating a key and
one built for an incompatible plugin API. Each bad one is reported in one line; everything else works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

GOOD_MANIFEST = """
api_version = "1.0"
[[modalities]]
key = "heatmap@64"
kind = "image_tokens"
vocab_size = 256
patch_size = 16
input_size = 64
positional_embedding = "sincos_2d"
decoding = "maskgit"
tokenizer = {family = "vqvae", id = "heatmap-quantizer"}
"""
GOOD_PLUGIN = '''
from mm4m.core.interfaces import Tokenizer
from mm4m.core.modalities import ImageTokenModality
from mm4m.registry import hookimpl, manifest_specs


class HeatmapQuantizer(Tokenizer):
    modality = "heatmap@64"
    vocab_size = 256

    def tokenize(self, data):
        return [min(255, int(v * 256)) for v in data]

    def detokenize(self, tokens):
        return [(t + 0.5) / 256 for t in tokens]


@hookimpl
def mm4m_modalities():
    return [ImageTokenModality(spec) for spec in manifest_specs(__name__)]


@hookimpl
def mm4m_tokenizers():
    return {"heatmap-quantizer": HeatmapQuantizer}
'''
STANDARD_PLUGIN = '''
from mm4m.core.modalities import ImageTokenModality
from mm4m.registry import hookimpl, manifest_specs


@hookimpl
def mm4m_modalities():
    return [ImageTokenModality(spec) for spec in manifest_specs(__name__)]
'''
DEPTH_CLONE = GOOD_MANIFEST.replace("heatmap@64", "tok_depth@224").replace("input_size = 64", "input_size = 224")

PLUGINS = {
    # distribution: (manifest, plugin module source)
    "acme-modality-heatmap": (GOOD_MANIFEST, GOOD_PLUGIN),
    "acme-modality-broken-import": (GOOD_MANIFEST.replace("heatmap@64", "broken_thing@64"),
                                    "import acme_dependency_that_is_not_installed\n" + STANDARD_PLUGIN),
    "acme-modality-bad-spec": (GOOD_MANIFEST.replace("heatmap@64", "bad_spec@64").replace("= 256", "= -5"),
                               STANDARD_PLUGIN),
    "acme-modality-depth-clone": (DEPTH_CLONE, STANDARD_PLUGIN),
    "acme-modality-future": (GOOD_MANIFEST.replace('"1.0"', '"2.0"').replace("heatmap@64", "future@64"),
                             STANDARD_PLUGIN),
}


def write_project(root: Path, distribution: str, manifest: str, source: str) -> Path:
    package = distribution.replace("-", "_")
    project = root / distribution
    (project / "src" / package).mkdir(parents=True)
    (project / "pyproject.toml").write_text(textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "{distribution}"
        version = "0.3.1"
        [project.entry-points."mm4m.plugins"]
        {package.removeprefix("acme_modality_")} = "{package}.plugin"
        [tool.setuptools.package-data]
        {package} = ["mm4m-plugin.toml"]
    """))
    (project / "src" / package / "__init__.py").write_text("")
    (project / "src" / package / "mm4m-plugin.toml").write_text(manifest)
    (project / "src" / package / "plugin.py").write_text(source)
    return project


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A directory where pip installed the five throw-away distributions."""
    root = tmp_path_factory.mktemp("third_party")
    projects = [write_project(root / "src", name, *files) for name, files in PLUGINS.items()]
    target = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--disable-pip-version-check", "--target", str(target), *map(str, projects)],
                   check=True, capture_output=True)
    return target


def run(site: Path, *args: str, env: dict | None = None, code: str | None = None) -> subprocess.CompletedProcess:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MM4M_")}
    environment = {**inherited, "PYTHONPATH": str(site), "MM4M_CACHE_DIR": str(site.parent / "cache"), **(env or {})}
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "mm4m", *args]
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=120)


def problem_lines(stderr: str) -> dict[str, list[str]]:
    lines: dict[str, list[str]] = {}
    for line in stderr.splitlines():
        if line.startswith("mm4m: plugin failed: "):
            lines.setdefault(line.split()[3], []).append(line)
    return lines


def test_listing_reports_each_bad_plugin_in_one_line_and_lists_the_rest(site):
    result = run(site, "list-modalities", "--json")
    assert result.returncode == 0, result.stderr
    keys = {entry["key"] for entry in json.loads(result.stdout)}
    assert {"heatmap@64", "broken_thing@64", "caption", "tok_depth@448", "tok_rgb@224"} <= keys
    assert not keys & {"bad_spec@64", "future@64", "tok_depth@224"}
    problems = problem_lines(result.stderr)
    assert set(problems) == {"acme-modality-bad-spec", "acme-modality-future", "acme-modality-depth-clone",
                             "mm4m-modality-depth"}
    assert all(len(lines) == 1 for lines in problems.values())
    assert "[spec]" in problems["acme-modality-bad-spec"][0] and "'vocab_size'" in problems["acme-modality-bad-spec"][0]
    assert "[api-version]" in problems["acme-modality-future"][0] and "2.0" in problems["acme-modality-future"][0]
    clash = problems["acme-modality-depth-clone"][0]
    assert "[duplicate]" in clash and "mm4m-modality-depth" in clash and "acme-modality-depth-clone" in clash
    assert "Traceback" not in result.stderr


def test_plugins_command_imports_plugins_and_reports_the_import_failure(site):
    result = run(site, "plugins", "--json")
    assert result.returncode == 1
    status = {row["distribution"]: row for row in json.loads(result.stdout)}
    assert status["acme-modality-heatmap"]["status"] == "ok"
    assert status["mm4m-modality-caption"]["status"] == "ok"
    broken = status["acme-modality-broken-import"]
    assert broken["status"] == "failed" and len(broken["errors"]) == 1
    assert "[import]" in broken["errors"][0] and "acme_dependency_that_is_not_installed" in broken["errors"][0]
    assert status["acme-modality-depth-clone"]["status"] == "conflict"
    assert "Traceback" not in result.stderr


def test_the_custom_plugin_is_usable_with_its_tokenizer(site):
    code = textwrap.dedent("""
        import torch, mm4m
        layer = mm4m.get_modality("heatmap@64").encoder_embedding(16)
        x, emb = layer(torch.zeros(2, 4, 4, dtype=torch.long))
        tokenizer = mm4m.get_registry().tokenizer_factory("heatmap-quantizer")()
        print(tuple(x.shape), tuple(emb.shape), tokenizer.tokenize([0.0, 0.5, 0.999]))
    """)
    result = run(site, code=code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["(2,", "16,", "16)", "(2,", "16,", "16)", "[0,", "128,", "255]"]


def test_asking_for_a_broken_or_conflicting_key_names_the_cause(site):
    code = textwrap.dedent("""
        import mm4m
        for key in ("broken_thing@64", "tok_depth@224"):
            try:
                mm4m.get_modality(key)
            except Exception as exc:
                print(type(exc).__name__, "|", exc)
    """)
    lines = run(site, code=code).stdout.splitlines()
    assert lines[0].startswith("PluginLoadError | acme-modality-broken-import 0.3.1 [import]")
    assert lines[1].startswith("DuplicateModalityError | modality 'tok_depth@224' is provided by both")


def test_strict_mode_raises_with_the_original_error(site):
    result = run(site, code="import mm4m; mm4m.get_registry()", env={"MM4M_STRICT_PLUGINS": "1"})
    assert result.returncode != 0
    assert "PluginLoadError" in result.stderr and "Traceback" in result.stderr
    cli = run(site, "list-modalities", env={"MM4M_STRICT_PLUGINS": "1"})
    assert cli.returncode != 0 and "acme-modality-bad-spec" in cli.stderr and "Traceback" in cli.stderr


def test_selection_disables_plugins(site):
    result = run(site, "list-modalities", "--json",
                 env={"MM4M_PLUGINS": "no:acme-modality-depth-clone,no:bad_spec,no:future"})
    assert result.returncode == 0
    keys = {entry["key"]: entry for entry in json.loads(result.stdout)}
    assert keys["tok_depth@224"]["distribution"] == "mm4m-modality-depth"
    assert problem_lines(result.stderr) == {}
    only = run(site, "list-modalities", "--json", env={"MM4M_PLUGINS": "heatmap,caption"})
    assert sorted(entry["key"] for entry in json.loads(only.stdout)) == ["caption", "heatmap@64"]


def test_doctor_counts_a_plugin_that_fails_to_import_as_failed(site):
    result = run(site, "doctor")
    assert result.returncode == 1
    rows = dict(line.split(None, 1) for line in result.stdout.splitlines()[1:] if " " in line)
    assert rows["plugins"].strip() == "19 ok, 2 conflict, 3 failed, 0 disabled"
    assert rows["problems"].strip() == "5"
    assert rows["modalities"].strip() == "25 available, 1 unavailable (plugin failed: broken_thing@64)"


def test_a_key_of_a_refused_plugin_names_the_refusal(site):
    result = run(site, "info", "future@64")
    assert result.returncode == 1
    assert "did you mean" not in result.stderr
    assert ("mm4m: modality 'future@64' is not available: its plugin acme-modality-future 0.3.1 was refused: "
            "built for plugin API 2.0, but this mm4m implements plugin API 1.0") in result.stderr
