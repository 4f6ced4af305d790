"""The demo's output folder: built in a hidden sibling and renamed into place only once everything is written."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class OutputDirError(RuntimeError):
    """``--out`` names a folder the demo must not replace (it holds something other than a demo run)."""


def is_demo_run(directory: Path, report_file: str, report_format: str) -> bool:
    """Whether ``directory`` holds a finished demo run (its report names the demo's format)."""
    try:
        return json.loads((directory / report_file).read_text(encoding="utf-8")).get("format") == report_format
    except (OSError, ValueError, AttributeError):
        return False


def check_replaceable(out: Path, report_file: str, report_format: str) -> None:
    """Refuse, before any work, an ``out`` that is a file or a non-empty folder other than an earlier demo run."""
    if out.is_file() or (out.is_dir() and any(out.iterdir()) and not is_demo_run(out, report_file, report_format)):
        raise OutputDirError(f"{out} exists and is not an earlier demo run; choose another --out or remove it")


@contextmanager
def staged_output(out: Path, report_file: str, report_format: str) -> Iterator[Path]:
    """Yield a fresh staging folder beside ``out``; on success it replaces ``out``, on failure it is removed."""
    out = out.resolve()
    check_replaceable(out, report_file, report_format)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    previous = out.with_name(f".{out.name}.previous")
    shutil.rmtree(previous, ignore_errors=True)
    if out.exists():
        out.rename(previous)
    staging.rename(out)
    shutil.rmtree(previous, ignore_errors=True)
