"""`train_tokenizer`: train a ViT VQ-VAE or MLP + Memcodes tokenizer for a modality, resumably, and report on it.

Outputs in the run directory: ``tokenizer.safetensors`` (released format), ``report.json``, ``examples.png`` and
the resumable ``training-state.json`` + ``training-state-<step>.safetensors``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from mm4m.core.spec import ModalitySpec, TokenizerFamily
from mm4m.core.tokenizers.neural import VQVAE
from mm4m.core.tokenizers.training.architecture import tokenizer_config
from mm4m.core.tokenizers.training.config import TrainingConfig
from mm4m.core.tokenizers.training.data import SampleLayout, layout_for, load_samples
from mm4m.core.tokenizers.training.objectives import Objective, objective_for
from mm4m.core.tokenizers.training.release import save_released_checkpoint
from mm4m.core.tokenizers.training.report import TrainingReport, save_example_sheet
from mm4m.core.tokenizers.training.state import (
    TrainingProgress,
    TrainingStateError,
    read_progress,
    restore_training_state,
    save_training_state,
    state_exists,
    state_tensors_file,
)

TOKENIZER_FILE = "tokenizer.safetensors"
REPORT_FILE = "report.json"
EXAMPLES_FILE = "examples.png"
_TRAINABLE_FAMILIES = (TokenizerFamily.VQVAE, TokenizerFamily.DIVAE, TokenizerFamily.MEMCODES_MLP)


class TrainingError(ValueError):
    """A training run that cannot start: wrong modality, unusable data, or a run directory in the way."""


@dataclass(frozen=True)
class TrainingData:
    """Samples in the raw domain (for pictures) and in the network's domain (for training and metrics)."""

    raw: torch.Tensor
    inputs: torch.Tensor
    objective: Objective


def _trainable_spec(key: str) -> ModalitySpec:
    from mm4m.registry.default import get_registry

    spec = get_registry().spec(key)
    if spec.tokenizer.family not in _TRAINABLE_FAMILIES:
        raise TrainingError(f"modality {key!r}: expected a VQ-VAE, DiVAE or Memcodes tokenizer family to train, "
                            f"found {spec.tokenizer.family.value!r}")
    return spec


def prepare_data(spec: ModalitySpec, data: str | os.PathLike[str] | torch.Tensor) -> TrainingData:
    """Load a sample directory (or take an (N, …) raw tensor), check it and normalise it as the tokenizer will."""
    raw = data if isinstance(data, torch.Tensor) else load_samples(data, layout_for(spec))
    if layout_for(spec) is SampleLayout.EMBEDDING and raw.dim() == 2:
        raw = raw[:, :, None, None]
    objective = objective_for(spec, tuple(raw.shape[1:]))
    return TrainingData(raw=raw, inputs=objective.normalizer.normalize(raw), objective=objective)


def learning_rate_at(step: int, config: TrainingConfig) -> float:
    """Linear warmup to ``learning_rate``, then cosine decay to ``min_learning_rate`` at ``steps``."""
    if step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    cosine = 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    return config.min_learning_rate + (config.learning_rate - config.min_learning_rate) * cosine


def resolve_device(name: str) -> torch.device:
    """``auto`` → the GPU when there is one; asking for ``cuda`` without one is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("device 'cuda' requested, but torch finds no CUDA GPU")
    return torch.device(name)


def build_optimizer(model: torch.nn.Module, config: TrainingConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on weight matrices only (norms, biases and embeddings tables of rank 1 exempt)."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in trainable if p.dim() >= 2], "weight_decay": config.weight_decay},
              {"params": [p for p in trainable if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.learning_rate, betas=config.betas)


@torch.no_grad()
def reconstruct(model: VQVAE, inputs: torch.Tensor, *, batch_size: int, device: torch.device) -> torch.Tensor:
    """Eval-mode reconstructions (no codebook updates) of ``inputs``, on the CPU."""
    model.eval()
    outputs = [model(inputs[i:i + batch_size].to(device))[0].cpu() for i in range(0, len(inputs), batch_size)]
    model.train()
    return torch.cat(outputs)


def _optimization_step(model: VQVAE, objective: Objective, optimizer: torch.optim.Optimizer, batch: torch.Tensor,
                       config: TrainingConfig) -> float:
    """One AdamW step on reconstruction + commitment loss (the codebook EMA updates in the forward); the loss."""
    reconstruction, code_loss = model(batch)
    loss = objective.loss(reconstruction, batch) + config.codebook_weight * code_loss.mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if config.grad_clip is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
    optimizer.step()
    return loss.item()


def _progress_bar(enabled: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("loss {task.fields[loss]:.4f}"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), disable=not enabled)


def _start(out_dir: Path, config: TrainingConfig, resume: bool, model: VQVAE, optimizer: torch.optim.Optimizer,
           data_generator: torch.Generator, data: TrainingData, device: torch.device
           ) -> tuple[TrainingProgress, torch.Tensor]:
    """Progress and untrained example reconstructions: restored from ``out_dir``, or measured on the fresh model."""
    if resume:
        progress = read_progress(out_dir)
        mismatches = config.resume_mismatches(progress.config)
        if mismatches:
            raise TrainingStateError(f"{out_dir}: cannot resume with a different configuration: "
                                     + "; ".join(mismatches))
        try:
            examples = restore_training_state(out_dir, progress, model=model, optimizer=optimizer,
                                              data_generator=data_generator)
        except RuntimeError as exc:
            raise TrainingStateError(f"{out_dir}: saved state does not fit this data's tokenizer: {exc}") from None
        return progress.model_copy(update={"config": config}), examples
    if state_exists(out_dir):
        raise TrainingError(f"{out_dir} already holds a training run: resume it or choose another directory")
    evaluation = data.inputs[:config.eval_samples]
    reconstruction = reconstruct(model, evaluation, batch_size=config.batch_size, device=device)
    progress = TrainingProgress(step=0, tensors_file="", config=config, loss_curve=[], window_losses=[],
                                untrained_metrics=data.objective.metrics(reconstruction, evaluation))
    return progress, data.objective.to_raw(reconstruction[:config.example_count])


def train_tokenizer(config: TrainingConfig, data: str | os.PathLike[str] | torch.Tensor,
                    out_dir: str | os.PathLike[str], *, resume: bool = False,
                    show_progress: bool = True) -> TrainingReport:
    """Train ``config.modality``'s tokenizer on ``data`` (a sample directory or raw (N, …) tensor) into ``out_dir``.

    With ``resume`` the run continues from the state saved in ``out_dir`` up to ``config.steps``.
    """
    spec = _trainable_spec(config.modality)
    training_data = prepare_data(spec, data)
    inputs, objective = training_data.inputs, training_data.objective
    num_labels = int(inputs.max()) + 1 if layout_for(spec) is SampleLayout.LABELS else None
    network_config = tokenizer_config(spec, tuple(training_data.raw.shape[1:]), config, num_labels)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    model = VQVAE(network_config).to(device).train()
    optimizer = build_optimizer(model, config)
    data_generator = torch.Generator().manual_seed(config.seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    progress, untrained_examples = _start(out_dir, config, resume, model, optimizer, data_generator,
                                          training_data, device)
    step, curve, window = progress.step, list(progress.loss_curve), list(progress.window_losses)

    with _progress_bar(show_progress) as bar:
        task = bar.add_task(f"training {spec.key}", total=config.steps, completed=step, loss=float("nan"))
        while step < config.steps:
            for group in optimizer.param_groups:
                group["lr"] = learning_rate_at(step, config)
            batch = inputs[torch.randint(len(inputs), (config.batch_size,), generator=data_generator)].to(device)
            window.append(_optimization_step(model, objective, optimizer, batch, config))
            step += 1
            if len(window) == config.log_every:
                curve.append(sum(window) / len(window))
                window = []
            if step % config.save_every == 0 or step == config.steps:
                progress = progress.model_copy(update={
                    "step": step, "loss_curve": list(curve), "window_losses": list(window),
                    "tensors_file": state_tensors_file(step)})
                save_training_state(out_dir, progress, model=model, optimizer=optimizer,
                                    data_generator=data_generator, untrained_examples=untrained_examples)
            bar.update(task, completed=step, loss=window[-1] if window else curve[-1])

    evaluation = inputs[:config.eval_samples]
    reconstruction = reconstruct(model, evaluation, batch_size=config.batch_size, device=device)
    shown = min(config.example_count, len(evaluation))
    checkpoint = save_released_checkpoint(model.cpu(), out_dir / TOKENIZER_FILE)
    examples = save_example_sheet(out_dir / EXAMPLES_FILE, spec, training_data.raw[:shown],
                                  untrained_examples[:shown], objective.to_raw(reconstruction[:shown]))
    report = TrainingReport(
        modality=spec.key, steps=step, samples=len(inputs), eval_samples=len(evaluation),
        primary_metric=objective.primary_metric, higher_is_better=objective.higher_is_better,
        untrained=progress.untrained_metrics, trained=objective.metrics(reconstruction, evaluation),
        loss_curve=curve, checkpoint=str(checkpoint), examples=str(examples),
        tokenizer_config=network_config.model_dump(), config=config)
    report.save(out_dir / REPORT_FILE)
    return report
