"""What `pip install mm4m` ships: every package under mm4m (no top-level core/registry) and the plugin catalog."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOTS = {"api": "mm4m", "core": "mm4m.core", "registry": "mm4m.registry"}


def source_packages() -> set[str]:
    """Every directory with an __init__.py under the mapped roots, as its mm4m.* package name."""
    found = set()
    for root, name in ROOTS.items():
        for init in (REPO / root).rglob("__init__.py"):
            relative = init.parent.relative_to(REPO / root).parts
            found.add(".".join((name, *relative)))
    return found


def test_every_source_package_is_declared():
    declared = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    assert declared == source_packages()


def test_the_wheel_installs_everything_under_mm4m(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "-w", str(tmp_path), str(REPO)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("mm4m-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"mm4m"}
    assert "mm4m/registry/first_party.toml" in names
    catalog = zipfile.ZipFile(wheel).read("mm4m/registry/first_party.toml").decode()
    assert catalog == (REPO / "entry_points.toml").read_text()
    packages = {name.rsplit("/", 1)[0].replace("/", ".") for name in names if name.endswith("/__init__.py")}
    assert packages == source_packages()
