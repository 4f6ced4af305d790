"""`pytest --mm4m-conformance` runs the invariant suite over installed and user modalities and policies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

USER_CONFTEST = '''
from mm4m.core.masking.policies import unified_policy
from mm4m.registry import get_registry

registry = get_registry()
registry.register({"key": "my_scores", "kind": "text_sequence", "max_tokens": 12, "vocab_size": 30000,
                   "positional_embedding": "sincos_1d", "decoding": "autoregressive",
                   "tokenizer": {"family": "wordpiece", "id": "my-text"}})
registry.register_masking_policy("my_policy", unified_policy)
'''


def run_pytest(directory: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "mm4m.testing.pytest_plugin", "-p", "no:cacheprovider",
                           "-q", *args], cwd=directory, env=env, capture_output=True, text=True, timeout=300)


def test_without_the_flag_nothing_is_added(tmp_path):
    result = run_pytest(tmp_path, "--collect-only")
    assert "no tests collected" in result.stdout, result.stdout


def test_plugin_import_is_cheap():
    code = "import sys, mm4m.testing.pytest_plugin; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_conformance_covers_user_modality_and_policy(tmp_path):
    (tmp_path / "conftest.py").write_text(USER_CONFTEST)
    result = run_pytest(tmp_path, "--mm4m-conformance", "--mm4m-conformance-examples", "3",
                        "-k", "my_scores or tok_depth", "-rA")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    for case in ("my_policy-my_scores", "unified-my_scores", "transfer-tok_depth@224"):
        assert f"test_policy_on_each_modality[{case}]" in result.stdout, result.stdout[-2000:]
    only = run_pytest(tmp_path, "--mm4m-conformance", "--mm4m-policy", "my_policy", "--mm4m-conformance-examples",
                      "2", "-k", "my_scores", "-rA")
    assert only.returncode == 0 and "[my_policy-my_scores]" in only.stdout and "unified-" not in only.stdout


def collected(result: subprocess.CompletedProcess) -> list[str]:
    """Test ids a ``--collect-only -q`` run printed."""
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_modality_option_selects_keys_and_plugins(tmp_path):
    result = run_pytest(tmp_path, "--mm4m-conformance", "--collect-only", "--mm4m-modality", "depth",
                        "--mm4m-modality", "caption")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    each = {line.split("[")[1].split("-", 1)[1].rstrip("]") for line in collected(result)
            if "test_policy_on_each_modality" in line}
    assert each == {"tok_depth@224", "tok_depth@448", "caption"}, collected(result)
    assert any("test_policy_on_all_modalities[unified]" in line for line in collected(result))


def test_modality_option_names_an_unknown_modality(tmp_path):
    result = run_pytest(tmp_path, "--mm4m-conformance", "--collect-only", "--mm4m-modality", "no_such_thing")
    assert result.returncode != 0
    assert "'no_such_thing'" in result.stdout and "tok_depth@224" in result.stdout and "mm4m-modality-depth" in \
        result.stdout, result.stdout[-3000:]


HOST_PYPROJECT = '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'


def test_conformance_runs_without_the_host_repositorys_tests(tmp_path):
    """From a repository root (its testpaths) or a plugin folder inside it, only the suite is collected."""
    (tmp_path / "pyproject.toml").write_text(HOST_PYPROJECT)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_host.py").write_text("def test_host():\n    pass\n")
    plugin = tmp_path / "plugins" / "mm4m-modality-foo"
    (plugin / "tests").mkdir(parents=True)
    (plugin / "tests" / "test_plugin_own.py").write_text("def test_plugin_own():\n    pass\n")
    for directory in (tmp_path, plugin):
        result = run_pytest(directory, "--mm4m-conformance", "--collect-only")
        ids = collected(result)
        assert result.returncode == 0 and ids, result.stdout[-3000:] + result.stderr[-2000:]
        assert all("::test_policy_on_" in line for line in ids), [i for i in ids if "::test_policy_on_" not in i]


def test_conformance_keeps_the_paths_you_name(tmp_path):
    (tmp_path / "test_mine.py").write_text("def test_mine():\n    pass\n")
    result = run_pytest(tmp_path, "--mm4m-conformance", "--collect-only", "test_mine.py")
    ids = collected(result)
    assert "test_mine.py::test_mine" in ids and any("::test_policy_on_" in line for line in ids), ids
