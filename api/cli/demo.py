"""``mm4m demo``: the embedded end-to-end run — scenes, tokenizers, a tiny 4M, generations and their scores."""

from __future__ import annotations

import argparse
from pathlib import Path

EXIT_OK, EXIT_PROBLEM = 0, 1
DEFAULT_OUT = Path("mm4m-demo")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``demo`` command to the ``mm4m`` parser's subcommands."""
    parser = subparsers.add_parser(
        "demo", help="train a tiny 4M on synthetic scenes and show what it learned (no downloads)",
        description="Render synthetic scenes, fit small tokenizers, train a tiny 4M on the CPU, then generate depth, "
                    "semseg and captions from held-out RGB and RGB from captions. Writes demo.png and report.json "
                    "into --out (replacing an earlier demo run there) and prints the scores next to trivial "
                    "baselines. Exit code 1 when the model does not beat every baseline.")
    parser.add_argument("--quick", action="store_true",
                        help="the small setting the test suite runs (about 2 minutes instead of 10)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the scenes, the trainings and the sampling")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: the preset's)")
    parser.set_defaults(run=cmd_demo)
    return parser


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo; settings and output-folder problems are one line on stderr."""
    from pydantic import ValidationError

    from mm4m.cli.output import print_table, warn
    from mm4m.core.demo import DemoConfig, run_demo
    from mm4m.core.demo.modalities import DemoModalityError
    from mm4m.core.demo.output_dir import OutputDirError
    from mm4m.core.demo.report import score_rows

    overrides = {"seed": args.seed} | ({"threads": args.threads} if args.threads is not None else {})
    try:
        config = DemoConfig.preset_config("quick" if args.quick else "full", **overrides)
        report = run_demo(config, args.out)
    except ValidationError as exc:
        error = exc.errors()[0]
        warn(f"demo: invalid setting {'.'.join(map(str, error['loc'])) or 'config'}: {error['msg']}")
        return EXIT_PROBLEM
    except (OutputDirError, DemoModalityError) as exc:
        warn(f"demo: {exc}")
        return EXIT_PROBLEM
    print_table(["task", "metric", "4M", "baseline", "tokenizer ceiling", "verdict"], score_rows(report),
                title="held-out scenes: the 4M against trivial baselines")
    verdict = "beats every baseline" if report.beats_baselines else "does NOT beat every baseline"
    print(f"The 4M {verdict} ({report.total_seconds:.0f} s on {report.torch_threads} thread(s), load average "
          f"{report.load_average[0]:.1f}); see {args.out / 'demo.png'} and {args.out / 'report.json'}")
    return EXIT_OK if report.beats_baselines else EXIT_PROBLEM
