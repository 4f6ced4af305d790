"""Freed host memory is reused without page faults once `keep_freed_host_memory` is on (glibc only)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from mm4m.core.training.config import TrainConfig, TrainConfigError

# Counts the minor page faults of writing a fresh 192 MB tensor after a 256 MB one was freed.
PROBE = """
import resource, sys
import torch
from mm4m.core.training.host_memory import keep_freed_host_memory
applied = keep_freed_host_memory() if sys.argv[1] == "keep" else False
torch.ones(64 * 2**20)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
torch.ones(48 * 2**20)
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

glibc_only = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="mallopt is glibc's")


def faults_on_reuse(mode: str) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True).stdout
    applied, faults = out.split()
    return applied, int(faults)


@glibc_only
def test_reused_buffers_do_not_fault_again():
    applied, kept = faults_on_reuse("keep")
    _, system = faults_on_reuse("system")
    pages = 192 * 2**20 // 4096
    assert applied == "True"
    assert system > pages // 2, "the C library's default maps fresh pages for every large buffer"
    assert kept < pages // 20


def test_runs_keep_freed_memory_by_default_and_the_field_is_validated(tiny_config):
    assert tiny_config.run.host_memory == "keep"
    data = tiny_config.model_dump(mode="json")
    data["run"]["host_memory"] = "system"
    assert TrainConfig.parse(data).run.host_memory == "system"
    data["run"]["host_memory"] = "lots"
    with pytest.raises(TrainConfigError, match=r"run\.host_memory.*'lots'"):
        TrainConfig.parse(data)
