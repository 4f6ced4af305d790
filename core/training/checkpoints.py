"""Training checkpoints: model, optimizer, schedule position, RNG states and data position, written atomically.

``<output_dir>/checkpoints/step-00000100/`` holds ``model.safetensors`` (a FourM file `FourM.from_pretrained`
reads), ``optimizer.safetensors`` (AdamW moments by parameter name), ``rng-rank<r>.safetensors`` (one per
process) and ``trainer_state.json``. The folder is assembled as ``.step-….partial`` and renamed into place;
``latest.json`` then points at it. FSDP2 shards are gathered to full tensors, so a checkpoint resumes
under either strategy.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict
from torch import nn
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_optimizer_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
)

from mm4m.core.checkpoint.pretrained import checkpoint_metadata
from mm4m.core.checkpoint.safetensors_file import atomic_write_bytes, load_tensors, read_header, write_tensors
from mm4m.core.training.distributed import ProcessContext, barrier, unwrapped
from mm4m.core.training.rng_state import capture_rng, restore_rng

CHECKPOINTS = "checkpoints"
LATEST = "latest.json"
MODEL_FILE, OPTIMIZER_FILE, STATE_FILE = "model.safetensors", "optimizer.safetensors", "trainer_state.json"
FULL = StateDictOptions(full_state_dict=True, cpu_offload=True)
OPTIMIZER_LOAD = StateDictOptions(full_state_dict=True, cpu_offload=True, strict=False)
"""Parameters that never received a gradient (e.g. the unused ``token_emb`` of grid decoders) have no AdamW state."""


class ResumeError(ValueError):
    """A checkpoint that cannot continue this run; the message names the file and the mismatch."""


class TrainerState(BaseModel):
    """Where training stands after ``step`` optimizer steps, and the data stream it must continue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    step: int
    tokens_seen: int
    world_size: int
    global_batch_size: int
    seed: int
    dataset_samples: int
    optimizer_param_groups: list[dict[str, Any]] = []

    def continuation_problems(self, expected: TrainerState) -> list[str]:
        """Differences in the data stream between this checkpoint and the run that resumes it."""
        fields = ("global_batch_size", "seed", "dataset_samples")
        return [f"{f} {getattr(self, f)} in the checkpoint, {getattr(expected, f)} now"
                for f in fields if getattr(self, f) != getattr(expected, f)]


def checkpoint_dir(output_dir: Path, step: int) -> Path:
    return output_dir / CHECKPOINTS / f"step-{step:08d}"


def latest_checkpoint(output_dir: Path) -> Path | None:
    """The folder ``latest.json`` points at, or None when the run has no checkpoint yet."""
    pointer = output_dir / CHECKPOINTS / LATEST
    if not pointer.is_file():
        return None
    try:
        folder = output_dir / CHECKPOINTS / json.loads(pointer.read_text(encoding="utf-8"))["checkpoint"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ResumeError(f"{pointer}: corrupt checkpoint pointer ({exc})") from None
    if not (folder / STATE_FILE).is_file():
        raise ResumeError(f"{pointer}: points at {folder}, which has no {STATE_FILE}")
    return folder


def save_checkpoint(output_dir: Path, model: nn.Module, optimizer: torch.optim.Optimizer, state: TrainerState,
                    context: ProcessContext) -> Path:
    """Write the checkpoint of ``state.step`` (collective: every process must call it)."""
    final = checkpoint_dir(output_dir, state.step)
    partial = final.with_name(f".{final.name}.partial")
    if context.is_main:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
    barrier(context)
    model_state = get_model_state_dict(model, options=FULL)
    optim_state = get_optimizer_state_dict(model, optimizer, options=FULL)
    rng_tensors, rng_text = capture_rng()
    write_tensors(partial / f"rng-rank{context.rank}.safetensors", rng_tensors, rng_text)
    if context.is_main:
        write_tensors(partial / MODEL_FILE, model_state, checkpoint_metadata(unwrapped(model)))
        write_tensors(partial / OPTIMIZER_FILE, _flatten_optimizer_state(optim_state["state"]), {})
        groups = [dict(g) for g in optim_state["param_groups"]]
        text = state.model_copy(update={"optimizer_param_groups": groups}).model_dump_json(indent=2)
        atomic_write_bytes(partial / STATE_FILE, text.encode())
    barrier(context)
    if context.is_main:
        if final.exists():
            shutil.rmtree(final)
        partial.replace(final)
        atomic_write_bytes(output_dir / CHECKPOINTS / LATEST, json.dumps({"checkpoint": final.name}).encode())
    barrier(context)
    return final


def load_checkpoint(folder: Path, model: nn.Module, optimizer: torch.optim.Optimizer, expected: TrainerState,
                    context: ProcessContext) -> TrainerState:
    """Restore model, optimizer and this process's RNGs from ``folder``; returns its `TrainerState`."""
    state = TrainerState.model_validate_json((folder / STATE_FILE).read_text(encoding="utf-8"))
    problems = state.continuation_problems(expected)
    if state.world_size != context.world_size:
        problems.append(f"world_size {state.world_size} in the checkpoint, {context.world_size} now "
                        "(RNG states are per process)")
    if problems:
        raise ResumeError(f"{folder / STATE_FILE}: cannot continue this run exactly: " + "; ".join(problems))
    set_model_state_dict(model, load_tensors(folder / MODEL_FILE), options=FULL)
    optim_state = {"state": _unflatten_optimizer_state(load_tensors(folder / OPTIMIZER_FILE)),
                   "param_groups": state.optimizer_param_groups}
    set_optimizer_state_dict(model, optimizer, optim_state, options=OPTIMIZER_LOAD)
    rng_file = folder / f"rng-rank{context.rank}.safetensors"
    restore_rng(load_tensors(rng_file), dict(read_header(rng_file).get("__metadata__") or {}))
    return state


def _flatten_optimizer_state(state: dict[str, dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """``{param: {name: tensor}}`` → ``{"param/name": tensor}`` (AdamW's state is all tensors)."""
    return {f"{param}/{name}": torch.as_tensor(value)
            for param, entry in state.items() for name, value in entry.items()}


def _unflatten_optimizer_state(tensors: dict[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    state: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        param, name = key.rsplit("/", 1)
        state.setdefault(param, {})[name] = value
    return state
