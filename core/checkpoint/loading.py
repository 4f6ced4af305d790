"""Strict loading into a model built on the meta device: no weight is initialised only to be overwritten."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import torch
from torch import nn

from mm4m.core.checkpoint.errors import CheckpointDriftWarning, CheckpointError, StateDictMismatchError
from mm4m.core.checkpoint.metadata import provenance_drift
from mm4m.core.checkpoint.safetensors_file import header_shapes, load_tensors

M = TypeVar("M", bound=nn.Module)


def build_on_meta(factory: Callable[[], M]) -> M:
    """Run ``factory`` with parameters and buffers allocated on the meta device (no memory, no init cost)."""
    with torch.device("meta"):
        return factory()


def check_keys(source: str, expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]],
               *, allow_unexpected: bool = False) -> None:
    """Raise `StateDictMismatchError` listing missing / unexpected keys and shape mismatches by name."""
    missing = sorted(expected.keys() - found.keys())
    unexpected = [] if allow_unexpected else sorted(found.keys() - expected.keys())
    mismatched = [(k, expected[k], found[k]) for k in sorted(expected.keys() & found.keys())
                  if expected[k] != found[k]]
    if missing or unexpected or mismatched:
        raise StateDictMismatchError(source, missing, unexpected, mismatched)


def load_weights(model: M, weights: Path, *, allow_unexpected: bool = False) -> M:
    """Assign the tensors of ``weights`` to a meta-built ``model`` after a strict name/shape check."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    check_keys(str(weights), expected, header_shapes(weights), allow_unexpected=allow_unexpected)
    tensors = load_tensors(weights, list(expected) if allow_unexpected else None)
    model.load_state_dict({k: tensors[k] for k in expected}, strict=True, assign=True)
    left = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if left:
        raise CheckpointError(f"{weights}: no values for {left} after loading")
    return model


def warn_on_drift(source: str, metadata: dict[str, str], version: str, providers: dict[str, str],
                  specs: dict) -> None:
    """One `CheckpointDriftWarning` per difference between the saved provenance and this environment."""
    for line in provenance_drift(metadata, version, providers, specs):
        warnings.warn(f"{source}: {line}", CheckpointDriftWarning, stacklevel=3)
