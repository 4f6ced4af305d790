"""`train(config, resume=...)`: the training loop that ties data, model, optimizer, checkpoints and logs together."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from mm4m.core.checkpoint.safetensors_file import atomic_write_bytes
from mm4m.core.data.shards import ShardedDataset
from mm4m.core.model.config import FourMConfig
from mm4m.core.model.fourm import FourM
from mm4m.core.training.checkpoints import (
    TrainerState,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from mm4m.core.training.config import TrainConfig
from mm4m.core.training.data import training_batches
from mm4m.core.training.distributed import (
    ProcessContext,
    close_processes,
    init_processes,
    mean_over_processes,
    wrap_model,
)
from mm4m.core.training.embedding_grads import RowSparseEmbeddingGrads
from mm4m.core.training.host_memory import keep_freed_host_memory
from mm4m.core.training.metrics import MetricsLog
from mm4m.core.training.optimizer import build_optimizer
from mm4m.core.training.progress import StepProgress
from mm4m.core.training.schedule import CosineSchedule, StepBudget
from mm4m.core.training.step import StepOptions, train_step

CONFIG_COPY = "config.yaml"


class RunExistsError(RuntimeError):
    """A fresh run was started in an output folder that already holds checkpoints."""


@dataclass(frozen=True)
class TrainResult:
    """What a finished (or stopped) run reports: steps done and the mean loss of every step it ran."""

    output_dir: Path
    start_step: int
    end_step: int
    losses: list[float]


def uses_row_sparse_grads(config: TrainConfig, context: ProcessContext) -> bool:
    """Row-sparse embedding gradients in a single process; DDP and FSDP2 reduce dense gradients (DDP's sparse
    path cannot skip the tables a step leaves without gradient, such as the unused ``token_emb`` of grid decoders)."""
    return config.optim.embedding_grads == "row-sparse" and not context.distributed


def build_training_model(config: TrainConfig, model_config: FourMConfig, context: ProcessContext
                         ) -> tuple[nn.Module, torch.optim.Optimizer, RowSparseEmbeddingGrads | None]:
    """The seeded FourM on this process's device, wrapped for the strategy, and its AdamW."""
    torch.manual_seed(config.run.seed)
    model = FourM(model_config).to(context.device).train()
    sparse_grads = RowSparseEmbeddingGrads(model) if uses_row_sparse_grads(config, context) else None
    model = wrap_model(model, config.run.distributed, context)
    return model, build_optimizer(model, config.optim), sparse_grads


def train(config: TrainConfig, *, resume: bool = False, stop_at_step: int | None = None) -> TrainResult:
    """Train from scratch or, with ``resume``, from the run's latest checkpoint; collective under torchrun.

    ``stop_at_step`` ends the run early after that many optimizer steps (the schedule still uses the full
    token budget), as when a job's time runs out.
    """
    if config.run.host_memory == "keep":
        keep_freed_host_memory()
    context = init_processes()
    try:
        return _run(config, context, resume=resume, stop_at_step=stop_at_step)
    finally:
        close_processes(context)


def _run(config: TrainConfig, context: ProcessContext, *, resume: bool, stop_at_step: int | None) -> TrainResult:
    output_dir = config.run.output_dir
    found = latest_checkpoint(output_dir)
    if found is not None and not resume:
        raise RunExistsError(f"{output_dir} already has checkpoints (latest {found.name}); pass --resume to "
                             "continue that run or choose another run.output_dir")
    dataset = ShardedDataset(config.data.path, verify_checksums=config.data.verify_checksums)
    budget = StepBudget.from_config(config, context.world_size)
    schedule = CosineSchedule.from_config(config, budget)
    model_config = config.model.fourm_config()

    model, optimizer, sparse_grads = build_training_model(config, model_config, context)
    expected = TrainerState(step=0, tokens_seen=0, world_size=context.world_size,
                            global_batch_size=budget.global_batch_size, seed=config.run.seed,
                            dataset_samples=len(dataset))
    state = expected
    if resume and found is not None:
        state = load_checkpoint(found, model, optimizer, expected, context)
    else:
        torch.manual_seed(config.run.seed + context.rank)  # per-process draws (drop path) after identical init
    if context.is_main:
        output_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(output_dir / CONFIG_COPY, config.to_yaml().encode())
    metrics = MetricsLog(output_dir, resume_step=state.step) if context.is_main else None

    end_step = budget.total_steps if stop_at_step is None else min(stop_at_step, budget.total_steps)
    options = StepOptions(config.data.num_input_tokens, config.data.num_target_tokens, config.run.loss_type,
                          config.optim.clip_grad,
                          torch.bfloat16 if config.run.precision == "bf16" and context.device.type == "cuda" else None)
    loader = iter(training_batches(config, model_config, dataset, rank=context.rank, world_size=context.world_size,
                                   start_step=state.step, end_step=end_step))
    losses: list[float] = []
    start_step, step = state.step, state.step
    with StepProgress(budget.total_steps, start_step, enabled=config.run.progress and context.is_main) as progress:
        while step < end_step:
            started = time.perf_counter()
            micro = [next(loader).mod_dict for _ in range(config.batch.accumulation_steps)]
            lr = schedule(step)
            result = train_step(model, optimizer, micro, options, device=context.device, lr=lr,
                                sparse_grads=sparse_grads)
            step += 1
            logged = mean_over_processes(torch.stack([result.loss, *result.modality_losses.values()]), context)
            losses.append(float(logged[0]))
            progress.update(step, losses[-1], lr)
            if metrics is not None and (step % config.run.log_every == 0 or step == end_step):
                metrics.append({"step": step, "loss": losses[-1], "lr": lr,
                                "grad_norm": None if result.grad_norm is None else float(result.grad_norm),
                                "tokens": step * budget.tokens_per_step,
                                "step_seconds": round(time.perf_counter() - started, 4),
                                "modalities": dict(zip(result.modality_losses, logged[1:].tolist(), strict=True))})
                metrics.draw_loss_curve()
            if step % config.run.checkpoint_every == 0 or step == end_step:
                state = state.model_copy(update={"step": step, "tokens_seen": step * budget.tokens_per_step})
                save_checkpoint(output_dir, model, optimizer, state, context)
    return TrainResult(output_dir, start_step, step, losses)
