"""``mm4m generate``: any-to-any generation for one sample; outputs written as PNG / JSON / text into a directory.

Inputs are ``KEY=VALUE``: text itself for text modalities (``@FILE`` reads it, structured ones take a JSON record),
else a PNG / .npy sample or an ids file of ``mm4m tokenize``. A text modality both input and target is a prompt.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``generate`` command to the ``mm4m`` parser's subcommands."""
    parser = subparsers.add_parser(
        "generate", help="generate target modalities from input modalities with a 4M checkpoint",
        description="Generate --target modalities from --input modalities with a 4M checkpoint. Text is "
                    "detokenized; token grids are decoded (PNG + .npy) when --tokenizer gives their checkpoint and "
                    "always saved as ids JSON (decodable later with `mm4m tokenize --decode`). Without --plan each "
                    "target uses its modality's decoding scheme in one step at temperature 1.")
    add_model_arguments(parser)
    parser.add_argument("--target", action="append", default=[], metavar="KEY",
                        help="modality to generate, in order (repeatable; default: the plan's targets)")
    parser.add_argument("--plan", type=Path, help="generation plan YAML (docs/generation.md)")
    parser.add_argument("--out", type=Path, required=True, help="directory for the outputs")
    parser.add_argument("--seed", type=int, help="sampling seed (overrides the plan's)")
    parser.add_argument("--decode-steps", type=int, default=50,
                        help="diffusion steps when decoding DiVAE grids (default 50)")
    parser.set_defaults(run=cmd_generate)
    return parser


TOKENIZER_HELP = ("tokenizer of a modality: its checkpoint, or the text tokenizer JSON for text modalities "
                  "(default $MM4M_TEXT_TOKENIZER) (repeatable)")


def add_model_arguments(parser: argparse.ArgumentParser, *, tokenizer_metavar: str = "KEY=PATH",
                        tokenizer_help: str = TOKENIZER_HELP) -> None:
    """``--model``, ``--input``, ``--tokenizer`` and ``--device``: what generation and retrieval share."""
    parser.add_argument("--model", required=True, help="4M checkpoint (.safetensors, hub-layout directory or hub id)")
    parser.add_argument("--input", action="append", default=[], metavar="KEY=VALUE",
                        help="input modality: rgb@224=photo.png, caption='a red car', caption=@prompt.txt, "
                             "tok_depth@224=depth.tokens.json (repeatable)")
    parser.add_argument("--tokenizer", action="append", default=[], metavar=tokenizer_metavar, help=tokenizer_help)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where to run (default: the GPU if there is one)")


def parse_pairs(values: Sequence[str], option: str) -> dict[str, str]:
    """``KEY=VALUE`` strings → dict; a missing ``=`` or a repeated key is a usage error naming the option."""
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise UsageError(f"{option} {value!r}: expected KEY=VALUE")
        if key in pairs:
            raise UsageError(f"{option}: modality {key!r} given twice")
        pairs[key] = rest
    return pairs


class UsageError(ValueError):
    """A command line that cannot be run as written."""


def resolve_device(name: str) -> str:
    """``auto`` → ``cuda`` when available, else ``cpu``; ``cuda`` without a GPU is a usage error."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available")
    return name


def read_inputs(pairs: dict[str, str]) -> dict:
    """Each ``KEY=VALUE`` read as its modality's data (unknown keys raise with suggestions)."""
    from mm4m.core.generation.pipeline import load_input
    from mm4m.registry.default import get_registry

    registry = get_registry()
    return {key: load_input(registry.spec(key), value) for key, value in pairs.items()}


@contextmanager
def step_progress(title: str) -> Iterator:
    """A callback drawing a rich progress bar per step on a terminal (stderr); a no-op when piped."""
    from mm4m.cli.output import use_rich

    if not use_rich(sys.stderr):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(f"{title} {{task.description}}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("preparing inputs", total=None)
        yield lambda event: progress.update(task, completed=event.done, total=event.total,
                                            description=event.description)


def problem_types() -> tuple[type[BaseException], ...]:
    """Errors that are the user's to fix; they are reported as one line instead of a traceback."""
    from mm4m.core.checkpoint.errors import CheckpointError
    from mm4m.core.generation.errors import GenerationSettingsError
    from mm4m.core.generation.pipeline import PipelineError
    from mm4m.core.model.config import ConfigError
    from mm4m.core.model.fourm import ModelBuildError
    from mm4m.core.tokenizers.neural.errors import CheckpointError as TokenizerCheckpointError
    from mm4m.core.tokenizers.neural.errors import TokenizerConfigError, TokenizerInputError
    from mm4m.core.tokenizers.text import TextTokenizerError
    from mm4m.registry.errors import RegistryError

    return (UsageError, PipelineError, GenerationSettingsError, CheckpointError, ConfigError, ModelBuildError,
            TokenizerCheckpointError, TokenizerConfigError, TokenizerInputError, TextTokenizerError, RegistryError,
            OSError)


def describe_problem(exc: BaseException) -> str:
    """The error's message; a missing tokenizer also says which option gives it."""
    from mm4m.core.generation.pipeline import MissingTokenizerError

    if isinstance(exc, MissingTokenizerError):
        return f"{exc} (--tokenizer {exc.key}=PATH)"
    return str(exc)


def cmd_generate(args: argparse.Namespace) -> int:
    """Load, generate, write the outputs atomically and list them; problems are one line on stderr."""
    from mm4m.cli.output import warn

    try:
        return _generate(args)
    except problem_types() as exc:
        warn(f"generate: {describe_problem(exc)}")
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_PROBLEM


def _generate(args: argparse.Namespace) -> int:
    from mm4m.cli.output import print_table
    from mm4m.core.generation.pipeline import TokenizerSet, generate, load_model
    from mm4m.core.generation.plan import GenerationPlan

    inputs = read_inputs(parse_pairs(args.input, "--input"))
    device = resolve_device(args.device)
    tokenizers = TokenizerSet(parse_pairs(args.tokenizer, "--tokenizer"), device=device)
    plan = GenerationPlan.load(args.plan) if args.plan else None
    model = load_model(args.model, device=device)
    with step_progress("generate") as on_progress:
        result = generate(model, inputs, args.target, plan, tokenizers=tokenizers, seed=args.seed,
                          decode_steps=args.decode_steps, on_progress=on_progress)
    written = result.save(args.out)
    rows = [(key, _summary(output)) for key, output in result.outputs.items()]
    rows += [("file", str(path)) for path in written]
    print_table(["output", "value"], rows, title=f"generated into {args.out}")
    return EXIT_OK


def _summary(output, width: int = 70) -> str:
    """One table cell: the start of a generated text, or the token count of a grid."""
    if output.text is not None:
        return output.text if len(output.text) <= width else output.text[:width - 1] + "…"
    return f"{output.tokens.numel()} tokens" + (" (decoded)" if output.decoded is not None else "")
