"""Atomic writes: one recognisable temp per save, and a killed save's temp removed by the next save of the
same target (only ours: same target, same host, process gone)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mm4m.core.atomic import atomic_path, atomic_write_bytes, partial_path


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    result = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                            check=True, timeout=60)
    return int(result.stdout)


@pytest.fixture
def live_pid():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process.pid
    process.kill()
    process.wait()


@pytest.mark.skipif(os.name != "posix", reason="stale temps are recognised by process id on POSIX only")
def test_the_next_save_removes_only_the_stale_temps_of_its_target(tmp_path, live_pid):
    target = tmp_path / "model.safetensors"
    stale = partial_path(target, dead_pid(), "0badf00d")
    kept = [partial_path(target, live_pid, "00c0ffee"),                                # a save still running
            partial_path(tmp_path / "other.safetensors", dead_pid(), "0badf00d"),      # another target
            stale.with_name(stale.name.replace(".mm4m-partial.", ".mm4m-partial.elsewhere-", 1)),  # another host
            tmp_path / ".model.safetensors.tmpab12cd"]                                 # not ours
    for path in [stale, *kept]:
        path.write_bytes(b"partial")
    with atomic_path(target) as tmp:
        during = sorted(p.name for p in tmp_path.iterdir())
        tmp.write_bytes(b"new")
    assert not stale.exists() and all(path.exists() for path in kept)
    assert during == sorted([tmp.name, *(p.name for p in kept)]), "exactly one temp of our own during the save"
    assert tmp.name.startswith(".model.safetensors.mm4m-partial.") and not tmp.exists()
    assert target.read_bytes() == b"new"


def test_a_temp_gets_the_mode_a_plain_open_would(tmp_path):
    atomic_write_bytes(tmp_path / "plain", b"")
    (tmp_path / "reference").write_bytes(b"")
    assert (tmp_path / "plain").stat().st_mode == (tmp_path / "reference").stat().st_mode
