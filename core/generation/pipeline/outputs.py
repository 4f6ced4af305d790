"""Generated targets decoded (text detokenized and parsed, grids decoded by their tokenizer) and saved as files."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from mm4m.core.generation.pipeline.tokenizers import tokenizer_device
from mm4m.core.generation.sample_dict import Entry
from mm4m.core.generation.schedule import ScheduleStep
from mm4m.core.interfaces import Tokenizer
from mm4m.core.spec import ModalitySpec
from mm4m.core.tokenizers.ids_files import ids_document

DEFAULT_DECODE_STEPS = 50
"""Diffusion steps of DiVAE decoding by default (as `DiVAETokenizer.detokenize`)."""


class GeneratedOutput(BaseModel):
    """One generated target: its ids and what they decode to."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    spec: ModalitySpec
    tokens: torch.Tensor = Field(description="(N,) ids: the grid, or the merged sequence without padding.")
    text: str | None = Field(None, description="Detokenized text of a sequence target.")
    record: Any = Field(None, description="Structured record parsed from the text (det, metadata, ...).")
    parse_error: str | None = Field(None, description="Why the text of a structured target is not a record.")
    decoded: torch.Tensor | None = Field(None, description="Grid decoded by its tokenizer, raw domain, batch 1.")


class GenerationResult(BaseModel):
    """The outputs of one run, the schedule that made them and its seed."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    outputs: dict[str, GeneratedOutput]
    schedule: list[ScheduleStep]
    seed: int | None

    def files(self) -> dict[str, bytes]:
        """File name → content of every output: ids JSON, decoded PNG + .npy, text, record JSON + PNG."""
        from mm4m.core.render import render
        from mm4m.core.render.render import png_bytes

        files: dict[str, bytes] = {}
        for key, output in self.outputs.items():
            spec = output.spec
            if spec.kind.is_image:
                files[f"{key}.tokens.json"] = _json_bytes(ids_document(key, output.tokens[None]))
                if output.decoded is not None:
                    files[f"{key}.npy"] = _npy_bytes(output.decoded)
                    files[f"{key}.png"] = png_bytes(render(output.decoded, spec))
                continue
            files[f"{key}.txt"] = (output.text + "\n").encode()
            if output.record is not None:
                files[f"{key}.json"] = (output.record.model_dump_json(indent=2) + "\n").encode()
                files[f"{key}.png"] = png_bytes(render(output.record, spec))
        summary = {"seed": self.seed, "schedule": [step.as_reference_dict() for step in self.schedule],
                   "parse_errors": {k: o.parse_error for k, o in self.outputs.items() if o.parse_error},
                   "files": sorted(files)}
        files["generation.json"] = _json_bytes(summary)
        return files

    def save(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Write `files` into ``directory``, each atomically, after all of them were made in memory."""
        from mm4m.core.checkpoint.safetensors_file import atomic_write_bytes

        contents = self.files()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for name, data in contents.items():
            atomic_write_bytes(directory / name, data)
            written.append(directory / name)
        return written


def decode_target(spec: ModalitySpec, entry: Entry, tokenizer: Tokenizer | None, *, decode_steps: int,
                  seed: int | None) -> GeneratedOutput:
    """Ids of a finished target and their decode: text (and record) for sequences, data for grids."""
    from mm4m.core.tokenizers.neural import DiVAETokenizer
    from mm4m.core.tokenizers.serializers import StructuredTextTokenizer
    from mm4m.core.tokenizers.serializers.base import SerializationError

    if spec.kind.is_image:
        tokens = entry["tensor"][0].reshape(-1).long().cpu()
        if tokenizer is None:
            return GeneratedOutput(spec=spec, tokens=tokens)
        ids = tokens[None].to(tokenizer_device(tokenizer))
        if isinstance(tokenizer, DiVAETokenizer):
            generator = None if seed is None else torch.Generator(ids.device).manual_seed(seed)
            decoded = tokenizer.detokenize(ids, steps=decode_steps, generator=generator)
        else:
            decoded = tokenizer.detokenize(ids)
        return GeneratedOutput(spec=spec, tokens=tokens, decoded=decoded.cpu())
    tokens = entry["tensor"][0][~entry["input_mask"][0]].long().cpu()
    if not isinstance(tokenizer, StructuredTextTokenizer):
        return GeneratedOutput(spec=spec, tokens=tokens, text=tokenizer.detokenize(tokens))
    text = tokenizer.text.detokenize(tokens)
    try:
        return GeneratedOutput(spec=spec, tokens=tokens, text=text, record=tokenizer.serializer.parse(text))
    except SerializationError as exc:
        return GeneratedOutput(spec=spec, tokens=tokens, text=text, parse_error=str(exc))


def _json_bytes(document: Any) -> bytes:
    return (json.dumps(document, indent=2) + "\n").encode()


def _npy_bytes(tensor: torch.Tensor) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, tensor.detach().cpu().numpy(), allow_pickle=False)
    return buffer.getvalue()
