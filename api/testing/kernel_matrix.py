"""Run pytest under CPU-kernel settings that change float32 summation orders the way another CPU would.

``python -m mm4m.testing.kernel_matrix [--jobs N] [--list] -- <pytest arguments>`` runs the given tests once
with the machine's defaults and once per setting below, each in a fresh process (the variables are read
when the first kernel runs), and fails if any run fails. See docs/numerics.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

TAIL_LINES = 40


@dataclass(frozen=True)
class KernelSetting:
    """One run of the matrix: a label and the environment variables it sets."""

    label: str
    env: dict[str, str]


def cpu_has_avx512() -> bool:
    """Whether this CPU can run ATen's AVX-512 kernels (``avx512f`` and friends in /proc/cpuinfo)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        flags = cpuinfo.read_text(errors="replace")
        return all(flag in flags for flag in ("avx512f", "avx512bw", "avx512vl", "avx512dq"))
    import torch

    return "AVX512" in torch.backends.cpu.get_cpu_capability()


def kernel_settings(*, avx512: bool | None = None) -> list[KernelSetting]:
    """The machine default, then each setting alone: ATen's vector width (scalar, AVX2, AVX-512 where the CPU
    has it), MKL's and oneDNN's instruction sets, and 1 or 2 threads (other reduction splits)."""
    avx512 = cpu_has_avx512() if avx512 is None else avx512
    settings = [KernelSetting("machine default", {})]
    capabilities = ["default", "avx2"] + (["avx512"] if avx512 else [])
    settings += [KernelSetting(f"ATEN_CPU_CAPABILITY={c}", {"ATEN_CPU_CAPABILITY": c}) for c in capabilities]
    settings += [KernelSetting(f"MKL_ENABLE_INSTRUCTIONS={i}", {"MKL_ENABLE_INSTRUCTIONS": i}) for i in ("SSE4_2", "AVX2")]
    settings += [KernelSetting(f"ONEDNN_MAX_CPU_ISA={i}", {"ONEDNN_MAX_CPU_ISA": i}) for i in ("SSE41", "AVX2")]
    settings += [KernelSetting(f"{n} thread{'s' if n > 1 else ''}", {"OMP_NUM_THREADS": str(n), "MKL_NUM_THREADS": str(n)})
                 for n in (1, 2)]
    return settings


@dataclass(frozen=True)
class RunResult:
    setting: KernelSetting
    returncode: int
    output: str

    @property
    def summary(self) -> str:
        lines = [line for line in self.output.strip().splitlines() if line.strip()]
        return lines[-1].strip("= ") if lines else "(no output)"


def run_setting(setting: KernelSetting, pytest_args: list[str], threads: int) -> RunResult:
    """pytest in a fresh interpreter with ``setting``'s variables over a copy of this environment.

    Runs that do not set a thread count get ``threads`` (the cores shared out between parallel runs):
    oversubscribed OpenMP threads spin and slow every run down many times over.
    """
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), **setting.env}
    for name in ("ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA"):
        if name not in setting.env:
            env.pop(name, None)  # each run sets one thing; inherited settings would blur which
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args],
                          env=env, capture_output=True, text=True)
    return RunResult(setting, done.returncode, done.stdout + done.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mm4m.testing.kernel_matrix", description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="runs at once (default: 2)")
    parser.add_argument("--list", action="store_true", help="print the settings and exit")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (put them after --)")
    args = parser.parse_args(argv)
    console = Console()
    settings = kernel_settings()
    if args.list:
        for setting in settings:
            console.print(setting.label)
        return 0
    if args.jobs < 1:
        parser.error(f"--jobs: expected a positive number of runs, found {args.jobs}")
    results: list[RunResult] = []
    with Progress(console=console, transient=True) as progress, ThreadPoolExecutor(args.jobs) as pool:
        task = progress.add_task("kernel settings", total=len(settings))
        threads = max(1, (os.cpu_count() or 1) // args.jobs)
        for result in pool.map(lambda s: run_setting(s, args.pytest_args, threads), settings):
            results.append(result)
            progress.advance(task)
    table = Table("kernel setting", "result", title="float32 fixture tests under other kernels")
    for result in results:
        table.add_row(result.setting.label, result.summary if result.returncode == 0 else f"[red]{result.summary}")
    console.print(table)
    failed = [r for r in results if r.returncode != 0]
    for result in failed:
        tail = "\n".join(result.output.rstrip().splitlines()[-TAIL_LINES:])
        console.rule(f"[red]{result.setting.label}: pytest exited with {result.returncode}")
        console.print(tail, markup=False, highlight=False)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
