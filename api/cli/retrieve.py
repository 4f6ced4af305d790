"""``mm4m retrieve``: ``build`` an index of global embeddings, ``query`` it from any inputs (spec §6)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mm4m.cli.generate import (
    EXIT_OK,
    EXIT_PROBLEM,
    EXIT_USAGE,
    UsageError,
    add_model_arguments,
    describe_problem,
    parse_pairs,
    problem_types,
    read_inputs,
    resolve_device,
    step_progress,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from mm4m.core.retrieval import Hit

DEFAULT_MODALITY = "tok_dinov2_global"
"""Spelled out (as `mm4m.core.retrieval.query.DEFAULT_MODALITY`) so building the parser does not import torch."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``retrieve`` and its ``build`` / ``query`` subcommands to the ``mm4m`` parser's subcommands."""
    parser = subparsers.add_parser("retrieve", help="build and query an index of global embeddings")
    commands = parser.add_subparsers(dest="retrieve_command", metavar="SUBCOMMAND", required=True)
    build = commands.add_parser(
        "build", help="build a cosine-similarity index from embeddings",
        description="Build an index from --embeddings: a directory of one-vector .npy files (id = path below it "
                    "without .npy; DIR/<id>/<modality>.npy as `mm4m generate --out DIR/<id>` writes it is named "
                    "<id>) or an (N, D) .npy array (ids: lines of --ids, else row numbers).")
    build.add_argument("--embeddings", type=Path, required=True, metavar="DIR|FILE", help="the embeddings")
    build.add_argument("--ids", type=Path, help="text file of ids, one per line, for an (N, D) array")
    build.add_argument("--modality", default=DEFAULT_MODALITY,
                       help=f"embedding modality the vectors belong to (default {DEFAULT_MODALITY})")
    build.add_argument("--out", type=Path, required=True, help="index file to write (.safetensors)")
    build.set_defaults(run=cmd_build)
    query = commands.add_parser(
        "query", help="predict the global embedding of some inputs and list the nearest items",
        description="Predict the index's embedding modality from --input modalities with a 4M checkpoint "
                    "(ROAR, 1 step, temperature 0.1, top-p 0.8), decode it with its tokenizer and list the k "
                    "nearest items by cosine similarity.")
    query.add_argument("--index", type=Path, required=True, help="index file written by `mm4m retrieve build`")
    add_model_arguments(query, tokenizer_metavar="[KEY=]PATH",
                        tokenizer_help="PATH: the embedding modality's tokenizer checkpoint; KEY=PATH: an input's "
                                       "tokenizer, as for `mm4m generate` (repeatable)")
    query.add_argument("-k", type=int, default=5, help="number of neighbours (default 5)")
    query.add_argument("--seed", type=int, help="sampling seed")
    query.add_argument("--backend", choices=("auto", "exact", "faiss"), default="auto",
                       help="search backend (default: faiss when installed, else exact)")
    query.add_argument("--json", action="store_true", help="print the neighbours as JSON")
    query.set_defaults(run=cmd_query)
    return parser


def tokenizer_sources(values: Sequence[str], modality: str) -> dict[str, str]:
    """``KEY=PATH`` where KEY is a registered modality, else a bare PATH for ``modality``."""
    from mm4m.registry.default import get_registry

    registry = get_registry()
    keyed = [value for value in values if value.partition("=")[0] in registry]
    bare = [value for value in values if value not in keyed]
    if len(bare) > 1:
        raise UsageError(f"--tokenizer: expected one bare PATH (the {modality} tokenizer), found {bare}")
    sources = parse_pairs(keyed, "--tokenizer")
    if bare:
        if modality in sources:
            raise UsageError(f"--tokenizer: modality {modality!r} given twice")
        sources[modality] = bare[0]
    return sources


def cmd_build(args: argparse.Namespace) -> int:
    """Read the embeddings, write the index atomically and describe it."""
    from mm4m.cli.output import print_table, warn
    from mm4m.core.retrieval import RetrievalError, RetrievalIndex, read_embeddings

    from mm4m.registry.default import get_registry
    from mm4m.registry.errors import RegistryError

    try:
        get_registry().spec(args.modality)
        vectors, ids = read_embeddings(args.embeddings, ids_file=args.ids, modality=args.modality)
        index = RetrievalIndex(vectors=vectors, ids=ids, modality=args.modality)
        index.save(args.out)
    except (RetrievalError, RegistryError, OSError) as exc:
        warn(f"retrieve build: {exc}")
        return EXIT_PROBLEM
    print_table(["field", "value"], [("index", str(args.out)), ("items", len(index)), ("dimension", index.dim),
                                     ("modality", args.modality)])
    return EXIT_OK


def cmd_query(args: argparse.Namespace) -> int:
    """Predict, search and print the neighbours; problems are one line on stderr."""
    from mm4m.cli.output import print_json, print_table, warn
    from mm4m.core.retrieval import RetrievalError

    try:
        hits = _query(args)
    except (*problem_types(), RetrievalError, ModuleNotFoundError) as exc:
        warn(f"retrieve query: {describe_problem(exc)}")
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_PROBLEM
    if args.json:
        print_json([hit.model_dump() for hit in hits])
    else:
        print_table(["rank", "id", "cosine"], [(rank, hit.id, f"{hit.score:.4f}") for rank, hit in enumerate(hits, 1)],
                    title=f"{len(hits)} nearest in {args.index}")
    return EXIT_OK


def _query(args: argparse.Namespace) -> list[Hit]:
    from mm4m.core.generation.pipeline import TokenizerSet, load_model
    from mm4m.core.retrieval import RetrievalIndex, SearchBackend, retrieve

    if args.k < 1:
        raise UsageError(f"-k: expected at least 1, found {args.k}")
    index = RetrievalIndex.load(args.index)
    modality = index.modality or DEFAULT_MODALITY
    inputs = read_inputs(parse_pairs(args.input, "--input"))
    if not inputs:
        raise UsageError("expected at least one --input, found none")
    device = resolve_device(args.device)
    tokenizers = TokenizerSet(tokenizer_sources(args.tokenizer, modality), device=device)
    model = load_model(args.model, device=device)
    with step_progress("retrieve") as on_progress:
        return retrieve(model, inputs, index, tokenizers, k=args.k, seed=args.seed,
                        backend=SearchBackend(args.backend), on_progress=on_progress)
