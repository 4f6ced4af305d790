"""Every random number generator a step may draw from (python, numpy, torch CPU and CUDA), as tensors + JSON."""

from __future__ import annotations

import json
import random

import numpy as np
import torch


def capture_rng() -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The current RNG states: torch states as uint8 tensors, python and numpy states as JSON strings."""
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        tensors["torch_cuda"] = torch.cuda.get_rng_state()
    version, state, gauss = random.getstate()
    text = {"python": json.dumps([version, list(state), gauss]),
            "numpy": json.dumps(_jsonable(np.random.get_state(legacy=False)))}
    return tensors, text


def restore_rng(tensors: dict[str, torch.Tensor], text: dict[str, str]) -> None:
    """Set every RNG to the captured state."""
    torch.set_rng_state(tensors["torch_cpu"])
    if "torch_cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state(tensors["torch_cuda"])
    version, state, gauss = json.loads(text["python"])
    random.setstate((version, tuple(state), gauss))
    np.random.set_state(json.loads(text["numpy"]))


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.integer):
        return int(value)
    return value
