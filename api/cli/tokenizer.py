"""``mm4m tokenizer …``: tokenizer commands (for now ``train-text``, a WordPiece with the 4M special layout)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from pathlib import Path

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
    return parser


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
