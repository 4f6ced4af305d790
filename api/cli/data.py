"""``mm4m data …``: build (``tokenize``) and check (``verify``) sharded token datasets."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``data`` and its subcommands to the ``mm4m`` parser's subcommands."""
    parser = subparsers.add_parser("data", help="build and check sharded token datasets")
    commands = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    tokenize = commands.add_parser(
        "tokenize", help="tokenize raw samples into safetensors shards + index.json",
        description="Read a JSONL manifest (one sample per line: {modality key: value}); text values are "
                    "tokenized as they are, other values name a .npy file (relative to the manifest). Each "
                    "modality uses its registered tokenizer; modalities without one are stored as float32.")
    tokenize.add_argument("manifest", type=Path, help="JSONL file, one sample per line")
    tokenize.add_argument("-o", "--output", type=Path, required=True, help="dataset directory to write")
    tokenize.add_argument("--tokenizer", action="append", default=[], metavar="KEY=SOURCE",
                          help="tokenizer file or checkpoint of a modality (repeatable)")
    tokenize.add_argument("--samples-per-shard", type=int, default=1024, help="samples per shard (default 1024)")
    tokenize.add_argument("--overwrite", action="store_true", help="replace an existing dataset at --output")
    tokenize.set_defaults(run=cmd_tokenize)
    verify = commands.add_parser("verify", help="check every shard of a dataset against its index (sha256)")
    verify.add_argument("directory", type=Path, help="dataset directory (with index.json)")
    verify.set_defaults(run=cmd_verify)
    return parser


def _sources(pairs: list[str]) -> dict[str, str]:
    sources = {}
    for pair in pairs:
        key, sep, source = pair.partition("=")
        if not sep or not key or not source:
            raise ValueError(f"--tokenizer expects KEY=SOURCE, found {pair!r}")
        sources[key] = source
    return sources


def _raw_samples(manifest: Path, text_keys: set[str]) -> Iterator[dict[str, Any]]:
    """Samples of the manifest; non-text values are loaded from their .npy file (never unpickled)."""
    import numpy as np

    with manifest.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{manifest}, line {number}: not valid JSON ({exc})") from None
            yield {key: value if key in text_keys else np.load(manifest.parent / value, allow_pickle=False)
                   for key, value in record.items()}


def cmd_tokenize(args: argparse.Namespace) -> int:
    """Tokenize the manifest into shards; problems are one line on stderr."""
    from mm4m.cli.output import print_table, warn
    from mm4m.core.data.shard_index import ShardError
    from mm4m.core.data.tokenize import tokenize_to_shards
    from mm4m.core.spec import ModalityKind, TokenizerFamily
    from mm4m.registry import get_registry

    if not args.manifest.is_file():
        warn(f"manifest {args.manifest} not found")
        return EXIT_USAGE
    try:
        sources = _sources(args.tokenizer)
        with args.manifest.open(encoding="utf-8") as handle:
            first = next((json.loads(line) for line in handle if line.strip()), None)
        if first is None:
            warn(f"manifest {args.manifest} has no sample")
            return EXIT_USAGE
        registry = get_registry()
        specs = {key: registry.spec(key) for key in first}
        tokenizers = {key: None if spec.tokenizer.family is TokenizerFamily.NONE
                      else registry.get(key).tokenizer(sources.get(key)) for key, spec in specs.items()}
        text_keys = {k for k, s in specs.items() if s.kind is ModalityKind.TEXT_SEQUENCE}
        index = tokenize_to_shards(_raw_samples(args.manifest, text_keys), specs, tokenizers, args.output,
                                   samples_per_shard=args.samples_per_shard, overwrite=args.overwrite)
    except (ShardError, ValueError, LookupError, OSError) as exc:
        warn(str(exc))
        return EXIT_PROBLEM
    print_table(["modality", "dtype", "sample shape"],
                [(k, v.dtype, list(v.sample_shape)) for k, v in index.modalities.items()],
                title=f"{args.output}: {index.num_samples} samples in {len(index.shards)} shards")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    """Check every shard; report the first problem (naming the file) or the dataset's size."""
    from mm4m.cli.output import warn
    from mm4m.core.data.shard_index import ShardError
    from mm4m.core.data.shards import ShardedDataset

    try:
        dataset = ShardedDataset(args.directory)
        dataset.verify()
    except ShardError as exc:
        warn(str(exc))
        return EXIT_PROBLEM
    print(f"{args.directory}: {len(dataset)} samples in {len(dataset.index.shards)} shards, all checksums match")
    return EXIT_OK
