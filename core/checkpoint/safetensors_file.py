"""Reading and atomically writing safetensors files, with header checks that name the file.

Only safetensors is ever read: nothing in mm4m unpickles.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

from mm4m.core.atomic import atomic_path, atomic_write_bytes
from mm4m.core.checkpoint.errors import CheckpointError
from mm4m.core.checkpoint.foreign import foreign_format_message
from mm4m.core.checkpoint.safetensors_writer import write_safetensors_file

__all__ = ["atomic_write_bytes", "write_tensors", "load_tensors", "read_header"]

MAX_HEADER_BYTES = 100_000_000


def read_header(path: Path) -> dict:
    """The parsed JSON header (tensor entries and ``__metadata__``), checked against the file size."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            prefix = fh.read(8)
            if len(prefix) < 8:
                raise CheckpointError(f"{path}: not a safetensors file: expected an 8-byte header length, "
                                      f"found {len(prefix)} bytes")
            (length,) = struct.unpack("<Q", prefix)
            if length > min(MAX_HEADER_BYTES, size - 8):
                raise CheckpointError(foreign_format_message(path, prefix) or
                                      f"{path}: corrupt or truncated safetensors header: it declares {length} "
                                      f"bytes but the file has {size - 8} after the length prefix")
            header = json.loads(fh.read(length))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: corrupt safetensors header (not valid JSON: {exc})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: corrupt safetensors header: expected a JSON object, found "
                              f"{type(header).__name__}")
    data_bytes = size - 8 - length
    ends = [entry["data_offsets"][1] for key, entry in header.items()
            if key != "__metadata__" and isinstance(entry, dict) and "data_offsets" in entry]
    if ends and max(ends) > data_bytes:
        raise CheckpointError(f"{path}: truncated file: tensors need {max(ends)} data bytes, found {data_bytes}")
    return header


def header_metadata(path: Path) -> dict[str, str]:
    """The ``__metadata__`` string map of the header (empty if absent)."""
    return dict(read_header(path).get("__metadata__") or {})


def header_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Tensor name → shape, from the header alone (no tensor data is read)."""
    return {k: tuple(v["shape"]) for k, v in read_header(path).items() if k != "__metadata__"}


def load_tensors(path: Path, names: Iterable[str] | None = None) -> dict[str, torch.Tensor]:
    """The tensors ``names`` (default: all) of ``path`` on the CPU; a corrupt file is a `CheckpointError`."""
    read_header(path)
    try:
        if names is None:
            return load_file(str(path))
        with safe_open(str(path), framework="pt") as fh:
            return {name: fh.get_tensor(name) for name in names}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot read tensors: {exc}") from None


def unshared(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Contiguous CPU tensors; a tensor aliasing an earlier one (shared ``mod_emb``) is copied."""
    seen: set[tuple[int, int]] = set()
    out = {}
    for name, tensor in tensors.items():
        tensor = tensor.detach().to("cpu").contiguous()
        ident = (tensor.untyped_storage().data_ptr(), tensor.storage_offset())
        out[name] = tensor.clone() if ident in seen else tensor
        seen.add(ident)
    return out


def write_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """Save ``tensors`` with string ``metadata`` to ``path`` atomically (one temp file, then rename)."""
    with atomic_path(path) as tmp:
        write_safetensors_file(tmp, unshared(tensors), metadata)
