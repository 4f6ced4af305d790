"""Writing the safetensors format straight into one file: no second temp file (the safetensors library
writes its own temp and renames it) and no in-memory copy of the whole checkpoint."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import BinaryIO

import torch

from mm4m.core.checkpoint.errors import CheckpointError

DTYPES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.float8_e4m3fn: "F8_E4M3", torch.float8_e5m2: "F8_E5M2",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint64: "U64", torch.uint32: "U32", torch.uint16: "U16", torch.uint8: "U8", torch.bool: "BOOL",
}
HEADER_ALIGNMENT = 8


def layout(tensors: dict[str, torch.Tensor]) -> list[str]:
    """Write order: widest elements first, then by name, so every tensor starts at a multiple of its width."""
    return sorted(tensors, key=lambda name: (-tensors[name].element_size(), name))


def header_bytes(tensors: dict[str, torch.Tensor], order: list[str], metadata: dict[str, str]) -> bytes:
    """The 8-byte little-endian length and the JSON header, padded with spaces to 8 bytes."""
    header: dict[str, object] = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for name in order:
        tensor = tensors[name]
        if tensor.dtype not in DTYPES:
            raise CheckpointError(f"tensor '{name}': dtype {tensor.dtype} cannot be stored in safetensors "
                                  f"(supported: {', '.join(str(d) for d in DTYPES)})")
        size = tensor.numel() * tensor.element_size()
        header[name] = {"dtype": DTYPES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % HEADER_ALIGNMENT)
    return struct.pack("<Q", len(text)) + text


def write_safetensors(fh: BinaryIO, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """Write contiguous CPU ``tensors`` and string ``metadata`` to the open binary file ``fh``."""
    order = layout(tensors)
    fh.write(header_bytes(tensors, order, metadata))
    for name in order:
        fh.write(memoryview(tensors[name].reshape(-1).view(torch.uint8).numpy()))


def write_safetensors_file(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """`write_safetensors` into ``path`` (an atomic temp: this function itself is not atomic)."""
    with path.open("wb") as fh:
        write_safetensors(fh, tensors, metadata)
