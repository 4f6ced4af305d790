"""``mm4m tokenizer …``: tokenizer commands: ``train`` (a neural tokenizer for a modality) and ``train-text``."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from pathlib import Path

MODEL_SIZES = ("tiny", "small", "base")
"""Values of `mm4m.core.tokenizers.training.ModelSize` (spelled out so the CLI starts without importing torch)."""

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``tokenizer`` and its subcommands to the ``mm4m`` parser's subcommands."""
    parser = subparsers.add_parser("tokenizer", help="train and inspect tokenizers")
    commands = parser.add_subparsers(dest="tokenizer_command", metavar="SUBCOMMAND", required=True)
    train = commands.add_parser(
        "train-text", help="train a WordPiece text tokenizer with the 4M special-token layout",
        description="Train a WordPiece tokenizer on text files (one text per line). Ids 0-4283 are the 4M "
                    "special tokens ([PAD] [UNK] [SOS] [EOS], [S_0]..[S_199], v0=0..v3=999, COCO class names); "
                    "the rest is learned from the corpus.")
    train.add_argument("corpus", nargs="+", type=Path, help="UTF-8 text files, one text per line")
    train.add_argument("-o", "--output", type=Path, required=True, help="tokenizer JSON file to write")
    train.add_argument("--vocab-size", type=int, default=30000, help="total vocabulary size (default 30000)")
    train.add_argument("--min-frequency", type=int, default=2,
                       help="minimum count of a merge to enter the vocabulary (default 2)")
    train.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    train.set_defaults(run=cmd_train_text)
    _add_train_parser(commands)
    return parser


def _add_train_parser(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train", help="train a ViT VQ-VAE or MLP + Memcodes tokenizer for a modality",
        description="Train the tokenizer of MODALITY on a directory of one-sample files (PNG or .npy, see "
                    "docs/tokenizers-training.md). Writes tokenizer.safetensors (released format), report.json "
                    "(untrained vs trained reconstruction metrics), examples.png and a resumable training state.")
    train.add_argument("modality", help="modality key, e.g. tok_rgb@224 or tok_semseg@224")
    train.add_argument("--data", type=Path, required=True, help="directory of sample files")
    train.add_argument("--out", type=Path, required=True, help="run directory for the outputs")
    train.add_argument("--size", choices=MODEL_SIZES, default="tiny",
                       help="architecture preset (default tiny)")
    train.add_argument("--steps", type=int, default=1000, help="total optimiser steps (default 1000)")
    train.add_argument("--batch-size", type=int, default=16, help="samples per step (default 16)")
    train.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (default 1e-3)")
    train.add_argument("--warmup-steps", type=int, default=0, help="linear warmup steps (default 0)")
    train.add_argument("--codebook-size", type=int, help="codes K (default: from the size preset)")
    train.add_argument("--patch-size", type=int, help="ViT patch size (default: from the size preset)")
    train.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="default: GPU if any")
    train.add_argument("--save-every", type=int, default=500, help="steps between resumable states")
    train.add_argument("--seed", type=int, default=0, help="seed of initialisation and batch sampling")
    train.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.set_defaults(run=cmd_train)


def _lines(paths: Sequence[Path]) -> Iterator[str]:
    """Every line of every corpus file, read lazily so large corpora stream through the trainer."""
    from mm4m.core.tokenizers.text import TextTokenizerError

    for path in paths:
        with path.open(encoding="utf-8") as handle:
            try:
                yield from handle
            except UnicodeDecodeError as exc:
                raise TextTokenizerError(f"corpus file {path} must be UTF-8, found the non-UTF-8 byte "
                                         f"{exc.object[exc.start]:#04x}") from exc


def cmd_train_text(args: argparse.Namespace) -> int:
    """Train, save atomically and report the vocabulary size; problems are one line on stderr."""
    from mm4m.cli.output import print_table, warn
    from mm4m.core.tokenizers.text import TextTokenizerError, train_text_tokenizer

    missing = [str(p) for p in args.corpus if not p.is_file()]
    if missing:
        warn(f"corpus file(s) not found: {', '.join(missing)}")
        return EXIT_USAGE
    if args.output.exists() and not args.force:
        warn(f"output {args.output} already exists (pass --force to overwrite)")
        return EXIT_USAGE
    try:
        tokenizer = train_text_tokenizer(_lines(args.corpus), vocab_size=args.vocab_size,
                                         min_frequency=args.min_frequency)
        path = tokenizer.save(args.output)
    except (TextTokenizerError, OSError) as exc:
        warn(f"train-text failed: {exc}")
        return EXIT_PROBLEM
    print_table(["field", "value"], [("output", path), ("vocab size", tokenizer.vocab_size),
                                     ("special tokens", 4284), ("corpus files", len(args.corpus))],
                title="trained text tokenizer")
    return EXIT_OK


def cmd_train(args: argparse.Namespace) -> int:
    """Train a modality's tokenizer; prints untrained vs trained metrics and the files written."""
    from pydantic import ValidationError

    from mm4m.cli.output import print_table, warn
    from mm4m.core.tokenizers.training import REPORT_FILE, TrainingConfig, train_tokenizer
    from mm4m.registry.errors import RegistryError

    try:
        config = TrainingConfig(
            modality=args.modality, size=args.size, steps=args.steps, batch_size=args.batch_size,
            learning_rate=args.lr, warmup_steps=args.warmup_steps, codebook_size=args.codebook_size,
            patch_size=args.patch_size, device=args.device, save_every=args.save_every, seed=args.seed)
    except ValidationError as exc:
        warn("invalid training settings: " + "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: "
                                                       f"{e['msg']}" for e in exc.errors()))
        return EXIT_USAGE
    try:
        report = train_tokenizer(config, args.data, args.out, resume=args.resume, show_progress=not args.no_progress)
    except (ValueError, OSError, RegistryError) as exc:
        warn(f"tokenizer training failed: {exc}")
        return EXIT_PROBLEM
    rows = [(name, f"{report.untrained[name]:.4f}", f"{report.trained[name]:.4f}") for name in report.trained]
    print_table(["metric", "untrained", "trained"], rows, title=f"{report.modality} after {report.steps} steps")
    print_table(["output", "path"], [("tokenizer", report.checkpoint), ("examples", report.examples),
                                     ("report", str(args.out / REPORT_FILE))])
    return EXIT_OK
