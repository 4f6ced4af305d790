"""Load a released-format tokenizer checkpoint: safetensors state dict + constructor config in ``__metadata__``.

Loading is strict: the file must hold exactly the keys and shapes the config's architecture has (§4.1).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from mm4m.core.tokenizers.neural.config import DiVAEConfig, build_config, parse_metadata
from mm4m.core.tokenizers.neural.errors import CheckpointError
from mm4m.core.tokenizers.neural.models import VQVAE, DiVAE

_SHOWN_KEYS = 8


def read_checkpoint(path: str | PathLike[str]) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """(tensors, raw metadata) of a safetensors file; unreadable, corrupt or truncated files raise CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: tokenizer checkpoint not found")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata()
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 - not a dict
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file (corrupt or truncated?): {exc}") from None
    if not metadata:
        raise CheckpointError(f"{path}: no '__metadata__' config in the safetensors header; expected the tokenizer's "
                              "constructor arguments there")
    return tensors, metadata


def _describe(keys: set[str]) -> str:
    shown = ", ".join(sorted(keys)[:_SHOWN_KEYS])
    return shown + (f", … ({len(keys)} in all)" if len(keys) > _SHOWN_KEYS else "")


def check_state_dict(model: torch.nn.Module, tensors: dict[str, torch.Tensor], *, source: str) -> None:
    """Raise CheckpointError naming the file and the missing / unexpected / mis-shaped keys."""
    expected = model.state_dict()
    missing, unexpected = expected.keys() - tensors.keys(), tensors.keys() - expected.keys()
    problems = []
    if missing:
        problems.append(f"missing keys: {_describe(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_describe(unexpected)}")
    problems += [f"{key}: expected shape {tuple(expected[key].shape)}, found {tuple(tensors[key].shape)}"
                 for key in sorted(expected.keys() & tensors.keys()) if expected[key].shape != tensors[key].shape]
    if problems:
        raise CheckpointError(f"{source}: state dict does not match its config "
                              f"({type(model).__name__}, enc {model.config.enc_type}): " + "; ".join(problems))


def load_model(path: str | PathLike[str]) -> VQVAE | DiVAE:
    """Build the network described by the file's metadata, load its weights strictly, return it in eval mode."""
    tensors, metadata = read_checkpoint(path)
    source = str(path)
    raw_config = parse_metadata(metadata, source=source)
    config = build_config(raw_config, source=source)
    model = DiVAE(config) if isinstance(config, DiVAEConfig) else VQVAE(config)
    check_state_dict(model, tensors, source=source)
    model.load_state_dict(tensors, strict=True)
    return model.eval()
