"""Start-up time of `mm4m list-modalities` with every plugin installed, against `python -c pass`.

Prints the median wall time of each over N runs (warm listing cache, output piped as in scripts) and their
ratio. Goal: ≤ 120 ms for the listing. Usage: python benchmarks/cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def median_ms(command: list[str], runs: int, env: dict | None = None) -> float:
    """Median wall time in milliseconds of running ``command`` ``runs`` times (after one warm-up)."""
    environment = {**os.environ, **(env or {})}
    subprocess.run(command, stdout=subprocess.DEVNULL, check=True, env=environment)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True, env=environment)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    script = shutil.which("mm4m", path=str(Path(sys.executable).parent)) or shutil.which("mm4m")
    listing = [script, "list-modalities"] if script else [sys.executable, "-m", "mm4m", "list-modalities"]
    baseline = median_ms([sys.executable, "-c", "pass"], args.runs)
    cli = median_ms(listing, args.runs)
    uncached = median_ms(listing, max(5, args.runs // 3), env={"MM4M_NO_CACHE": "1"})
    print(f"python -c pass          : {baseline:7.1f} ms (median of {args.runs})")
    print(f"mm4m list-modalities    : {cli:7.1f} ms (median of {args.runs}, warm cache)")
    print(f"  without the cache     : {uncached:7.1f} ms (manifests parsed and validated every time)")
    print(f"ratio listing / baseline: {cli / baseline:7.2f}x   goal: listing <= 120 ms -> "
          f"{'met' if cli <= 120 else 'NOT met'}")


if __name__ == "__main__":
    main()
