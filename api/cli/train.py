"""``mm4m train CONFIG [--resume]``: run the training engine (one process, or every process under torchrun)."""

from __future__ import annotations

import argparse
from pathlib import Path

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``train`` to the ``mm4m`` parser's subcommands."""
    parser = subparsers.add_parser(
        "train", help="train a 4M model from a YAML config",
        description="Train from a YAML config (see docs/training.md). For several processes launch it with "
                    "torchrun, e.g. `torchrun --nproc-per-node 2 -m mm4m train run.yaml`.")
    parser.add_argument("config", type=Path, help="training YAML")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the latest checkpoint in run.output_dir (start fresh if there is none)")
    parser.add_argument("--stop-at-step", type=int, default=None, metavar="N",
                        help="stop after N optimizer steps (the schedule still spans the whole token budget)")
    parser.set_defaults(run=cmd_train)
    return parser


def cmd_train(args: argparse.Namespace) -> int:
    """Validate the config and train; config, data and resume problems are one line on stderr."""
    from mm4m.cli.output import warn
    from mm4m.core.data.shard_index import ShardError
    from mm4m.core.training.checkpoints import ResumeError
    from mm4m.core.training.config import TrainConfig, TrainConfigError
    from mm4m.core.training.trainer import RunExistsError, train

    if not args.config.is_file():
        warn(f"config {args.config} not found")
        return EXIT_USAGE
    try:
        config = TrainConfig.from_yaml(args.config)
        result = train(config, resume=args.resume, stop_at_step=args.stop_at_step)
    except TrainConfigError as exc:
        warn(str(exc))
        return EXIT_USAGE
    except (ShardError, ResumeError, RunExistsError) as exc:
        warn(str(exc))
        return EXIT_PROBLEM
    if result.losses:
        print(f"trained steps {result.start_step + 1}-{result.end_step}, last loss {result.losses[-1]:.4f}; "
              f"outputs in {result.output_dir}")
    else:
        print(f"nothing to do: the run in {result.output_dir} is already at step {result.end_step}")
    return EXIT_OK
