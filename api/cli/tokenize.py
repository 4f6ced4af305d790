"""``mm4m tokenize``: a modality's file → token ids (JSON or safetensors); ``--decode``: ids → a picture or text.

Inputs: PNG / ``.npy`` for image-like modalities (one sample, as in training data directories), UTF-8 text for
captions, a JSON record for structured text modalities (det, metadata, ...). The ids file records the modality.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``tokenize`` command to the ``mm4m`` parser's subcommands."""
    parser = subparsers.add_parser(
        "tokenize", help="tokenize a file with a modality's tokenizer, or decode ids back to a picture",
        description="Tokenize FILE (PNG/.npy for image modalities, text or a JSON record for text modalities) "
                    "with the tokenizer of --modality and write its ids; with --decode, FILE holds ids and the "
                    "decoded data is rendered to a PNG (or written as text to a .txt --out).")
    parser.add_argument("file", type=Path, help="data file, or an ids file (.json / .safetensors) with --decode")
    parser.add_argument("--modality", required=True, help="modality key, e.g. tok_semseg@224 or caption")
    parser.add_argument("--tokenizer", help="tokenizer checkpoint (.safetensors) or text tokenizer file / hub id")
    parser.add_argument("--out", type=Path,
                        help="ids: .json (default: printed) or .safetensors; --decode: .png (default FILE.png) "
                             "or .txt for text modalities")
    parser.add_argument("--decode", action="store_true", help="decode the ids in FILE instead of tokenizing")
    parser.add_argument("--steps", type=int, default=50, help="sampling steps of diffusion decoders (default 50)")
    parser.add_argument("--seed", type=int, default=0, help="seed of diffusion sampling (default 0)")
    parser.add_argument("--background", type=Path, help="image to draw decoded detections on")
    parser.set_defaults(run=cmd_tokenize)
    return parser


def _read_data(path: Path, spec, tokenizer) -> Any:
    """The raw sample in ``path`` as the tokenizer takes it: a batch of one array, a string or a record."""
    from mm4m.core.spec import ModalityKind
    from mm4m.core.tokenizers.serializers import StructuredTextTokenizer
    from mm4m.core.tokenizers.training import layout_for, read_sample

    if spec.kind is ModalityKind.TEXT_SEQUENCE:
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if isinstance(tokenizer, StructuredTextTokenizer) else text.strip()
    return read_sample(path, layout_for(spec))[None]


def _write_ids(ids: Any, modality: str, out: Path | None) -> None:
    import torch

    from mm4m.cli.output import print_json
    from mm4m.core.tokenizers.ids_files import ids_document, ids_metadata

    tensor = torch.as_tensor(ids, dtype=torch.int64)
    if out is not None and out.suffix == ".safetensors":
        from mm4m.core.checkpoint.safetensors_file import write_tensors

        write_tensors(out, {"ids": tensor}, ids_metadata(modality))
        return
    document = ids_document(modality, tensor)
    if out is None:
        print_json(document)
        return
    from mm4m.core.checkpoint.safetensors_file import atomic_write_bytes

    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, (json.dumps(document) + "\n").encode())


def _decode(args: argparse.Namespace, spec, tokenizer) -> Path:
    """Detokenize the ids in ``args.file`` and write the picture (or text); returns the path written."""
    import torch

    from mm4m.core.render import render, save_png
    from mm4m.core.spec import ModalityKind
    from mm4m.core.tokenizers.ids_files import read_ids_file
    from mm4m.core.tokenizers.neural import DiVAETokenizer

    ids = read_ids_file(args.file, spec.key, require_format=False)  # hand-written documents may omit format
    if isinstance(tokenizer, DiVAETokenizer):
        data = tokenizer.detokenize(ids, steps=args.steps, generator=torch.Generator().manual_seed(args.seed))
    else:
        data = tokenizer.detokenize(ids.tolist() if spec.kind is ModalityKind.TEXT_SEQUENCE else ids)
    out = args.out or args.file.with_suffix(".png")
    if out.suffix == ".txt":
        if spec.kind is not ModalityKind.TEXT_SEQUENCE:
            raise ValueError(f"--out {out}: text output is for text modalities, {spec.key!r} is "
                             f"{spec.kind.value}; use a .png")
        from mm4m.core.checkpoint.safetensors_file import atomic_write_bytes

        text = data if isinstance(data, str) else data.model_dump_json(indent=2)
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out, (text + "\n").encode())
        return out
    background = None
    if args.background is not None:
        from PIL import Image

        with Image.open(args.background) as image:
            background = image.convert("RGB")
    return save_png(render(data, spec, background=background), out)


def cmd_tokenize(args: argparse.Namespace) -> int:
    """Tokenize or decode one file; problems are one line on stderr."""
    from mm4m.cli.output import print_table, warn
    from mm4m.core.tokenizers.resolve import TokenizerUnavailableError
    from mm4m.registry.default import get_registry
    from mm4m.registry.errors import RegistryError

    if not args.file.is_file():
        warn(f"input file {args.file} not found")
        return EXIT_USAGE
    try:
        registry = get_registry()
        spec = registry.spec(args.modality)
        tokenizer = registry.get(args.modality).tokenizer(args.tokenizer)
        if args.decode:
            written = _decode(args, spec, tokenizer)
            print_table(["field", "value"], [("modality", spec.key), ("decoded", str(written))])
        else:
            _write_ids(tokenizer.tokenize(_read_data(args.file, spec, tokenizer)), spec.key, args.out)
            if args.out is not None:
                print_table(["field", "value"], [("modality", spec.key), ("ids", str(args.out))])
    except (ValueError, OSError, LookupError, RegistryError, TokenizerUnavailableError) as exc:
        warn(f"tokenize {args.file}: {exc}")
        return EXIT_PROBLEM
    return EXIT_OK
