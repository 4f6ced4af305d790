"""Throughput of the synthetic-scene renderer: scenes per second for a batch (default 1000 scenes of 64×64).

Prints the best and median wall time over R renders (after one warm-up) and the scenes/s they imply.
Usage: python benchmarks/synthetic.py [--count N] [--size S] [--repeats R] [--threads T]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from mm4m.core.data.synthetic import SceneConfig, render_scenes


def main() -> None:
    """Parse the options, warm up, time the renders and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="scenes per render_scenes call")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = SceneConfig(image_size=args.size)
    render_scenes(min(args.count, 64), config, seed=0)
    times = []
    for repeat in range(args.repeats):
        start = time.perf_counter()
        render_scenes(args.count, config, seed=repeat)
        times.append(time.perf_counter() - start)
    best, median = min(times), statistics.median(times)
    print(f"{args.count} scenes of {args.size}×{args.size}, {args.threads} thread(s), {args.repeats} repeats")
    print(f"best   : {best:6.2f} s  → {args.count / best:7.1f} scenes/s")
    print(f"median : {median:6.2f} s  → {args.count / median:7.1f} scenes/s")


if __name__ == "__main__":
    main()
