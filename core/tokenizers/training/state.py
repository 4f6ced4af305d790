"""Resumable training state: tensors in ``training-state-<step>.safetensors``, progress in ``training-state.json``.

The tensors file holds the model (codebook EMA buffers included), the AdamW moments, the RNG states and the
untrained reconstructions of the examples. Both files are written atomically and the JSON, written last, names
the tensors file: an interrupted save leaves the previous state intact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mm4m.core.checkpoint.safetensors_file import atomic_write_bytes, load_tensors, write_tensors
from mm4m.core.tokenizers.training.config import TrainingConfig

STATE_JSON = "training-state.json"
STATE_TENSORS_PREFIX = "training-state-"
STATE_FORMAT = "mm4m-tokenizer-training-state"
UNTRAINED_EXAMPLES = "untrained_examples"


class TrainingStateError(ValueError):
    """A training state that is missing, unreadable or does not fit the run resuming it."""


class TrainingProgress(BaseModel):
    """The JSON half of a training state."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["mm4m-tokenizer-training-state"] = STATE_FORMAT
    step: int = Field(ge=0)
    tensors_file: str
    config: TrainingConfig
    optimizer_groups: list[dict] = Field(default_factory=list, description="AdamW hyper-parameters; set on save.")
    untrained_metrics: dict[str, float]
    loss_curve: list[float] = Field(description="Mean loss of every completed window of log_every steps.")
    window_losses: list[float] = Field(description="Losses of the current, incomplete window.")


def state_tensors_file(step: int) -> str:
    """Name of the tensors file of the state saved at ``step``."""
    return f"{STATE_TENSORS_PREFIX}{step:08d}.safetensors"


def state_exists(directory: Path) -> bool:
    """True when ``directory`` holds a training state."""
    return (directory / STATE_JSON).is_file()


def _rng_tensors(data_generator: torch.Generator) -> dict[str, torch.Tensor]:
    tensors = {"rng.torch": torch.get_rng_state(), "rng.data": data_generator.get_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors |= {f"rng.cuda.{i}": state for i, state in enumerate(torch.cuda.get_rng_state_all())}
    return tensors


def save_training_state(directory: Path, progress: TrainingProgress, *, model: torch.nn.Module,
                        optimizer: torch.optim.Optimizer, data_generator: torch.Generator,
                        untrained_examples: torch.Tensor) -> None:
    """Write the tensors, then commit by replacing the JSON; older tensors files are removed afterwards."""
    optimizer_state = optimizer.state_dict()
    tensors = {f"model.{key}": value for key, value in model.state_dict().items()}
    tensors |= {f"optimizer.{index}.{name}": torch.as_tensor(value)
                for index, values in optimizer_state["state"].items() for name, value in values.items()}
    tensors |= _rng_tensors(data_generator)
    tensors[UNTRAINED_EXAMPLES] = untrained_examples
    write_tensors(directory / progress.tensors_file, tensors, {"format": STATE_FORMAT, "step": str(progress.step)})
    progress = progress.model_copy(update={"optimizer_groups": optimizer_state["param_groups"]})
    atomic_write_bytes(directory / STATE_JSON, progress.model_dump_json(indent=2).encode())
    for stale in directory.glob(f"{STATE_TENSORS_PREFIX}*.safetensors"):
        if stale.name != progress.tensors_file:
            stale.unlink()


def read_progress(directory: Path) -> TrainingProgress:
    """The JSON half of the state in ``directory``."""
    path = directory / STATE_JSON
    if not path.is_file():
        raise TrainingStateError(f"{directory}: no training state to resume (expected {STATE_JSON})")
    try:
        return TrainingProgress.model_validate(json.loads(path.read_text()))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise TrainingStateError(f"{path}: not a valid training state: {exc}") from None


def restore_training_state(directory: Path, progress: TrainingProgress, *, model: torch.nn.Module,
                           optimizer: torch.optim.Optimizer, data_generator: torch.Generator) -> torch.Tensor:
    """Load model, optimizer and RNG states saved with ``progress``; returns the untrained example reconstructions."""
    tensors = load_tensors(directory / progress.tensors_file)
    model.load_state_dict({key.removeprefix("model."): value for key, value in tensors.items()
                           if key.startswith("model.")}, strict=True)
    moments: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            moments.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": moments, "param_groups": progress.optimizer_groups})
    torch.set_rng_state(tensors["rng.torch"])
    data_generator.set_state(tensors["rng.data"])
    cuda_keys = sorted((k for k in tensors if k.startswith("rng.cuda.")), key=lambda k: int(k.rsplit(".", 1)[1]))
    cuda_states = [tensors[key] for key in cuda_keys]
    if cuda_states and torch.cuda.is_available() and len(cuda_states) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda_states)
    return tensors[UNTRAINED_EXAMPLES]
