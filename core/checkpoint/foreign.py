"""Naming the non-safetensors files people pass as checkpoints (PyTorch zip, pickle, gzip) from their first
bytes, with what to do instead. Nothing here reads further: mm4m never unpickles."""

from __future__ import annotations

from pathlib import Path

CONVERT = ('python -c "import torch; from safetensors.torch import save_file; '
           "save_file(torch.load('{src}', weights_only=True), '{dst}')\"")


def foreign_format_message(path: Path, prefix: bytes) -> str | None:
    """What ``path`` is if its first bytes ``prefix`` show a PyTorch zip, a pickle or gzip; else None."""
    if prefix.startswith(b"\x1f\x8b"):
        return f"{path}: gzip-compressed, not a safetensors file; decompress it first (gunzip {path.name})"
    if prefix.startswith(b"PK\x03\x04"):
        kind = "a zip archive (the torch.save format)"
    elif len(prefix) >= 2 and prefix[0] == 0x80 and 2 <= prefix[1] <= 5:
        kind = f"a pickle (protocol {prefix[1]}, e.g. a legacy torch.save file)"
    else:
        return None
    dst = path.with_name(f"{path.stem}.converted.safetensors" if path.suffix == ".safetensors" else
                         f"{path.stem}.safetensors")
    return (f"{path}: {kind}, not a safetensors file; mm4m never unpickles (loading a pickle can run arbitrary "
            f"code). If you trust its source, convert it yourself: {CONVERT.format(src=path, dst=dst)} (if "
            f"torch.load returns a dict holding the state dict, e.g. under 'model', save that inner dict), then "
            f"load a directory holding it as model.safetensors beside its config.json")
