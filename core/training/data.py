"""The run's data side: the masking policy from the config and this process's loader of micro-batches."""

from __future__ import annotations

from pathlib import Path

from mm4m.core.data.loader import MaskedMicroBatches, micro_batch_loader
from mm4m.core.data.sample_order import BatchPlan
from mm4m.core.data.shards import ShardedDataset
from mm4m.core.masking.config import (
    AlphasMixture,
    MaskingConfig,
    ModalityAlphas,
    builtin_config_path,
    load_alphas_mixture,
)
from mm4m.core.masking.unified import UnifiedMasking
from mm4m.core.model.config import FourMConfig
from mm4m.core.training.config import TrainConfig


def masking_mixture(config: TrainConfig, keys: tuple[str, ...]) -> AlphasMixture:
    """The configured mixture file (path or shipped name) restricted to ``keys``, else one Dirichlet component."""
    name = config.data.alphas_config
    if name is not None:
        path = Path(name) if Path(name).suffix in (".yaml", ".yml") else builtin_config_path(name)
        return load_alphas_mixture(path).restricted_to(keys, source=str(path))
    row = ModalityAlphas(input_alphas=(config.data.input_alpha,), target_alphas=(config.data.target_alpha,))
    return AlphasMixture(modalities={key: row for key in keys})


def masking_policy(config: TrainConfig, model_config: FourMConfig) -> UnifiedMasking:
    """4M's unified masking over the model's input and target domains with the run's token budgets."""
    keys = tuple(model_config.all_domains)
    return UnifiedMasking(MaskingConfig(
        in_domains=tuple(model_config.domains_in), out_domains=tuple(model_config.domains_out),
        mixture=masking_mixture(config, keys), num_input_tokens=config.data.num_input_tokens,
        num_target_tokens=config.data.num_target_tokens))


def batch_plan(config: TrainConfig, world_size: int) -> BatchPlan:
    return BatchPlan(micro_batch_size=config.batch.batch_size, world_size=world_size,
                     accumulation_steps=config.batch.accumulation_steps, seed=config.run.seed)


def training_batches(config: TrainConfig, model_config: FourMConfig, dataset: ShardedDataset, *, rank: int,
                     world_size: int, start_step: int, end_step: int):
    """This rank's DataLoader over masked micro-batches for steps ``[start_step, end_step)``."""
    batches = MaskedMicroBatches(dataset, masking_policy(config, model_config), batch_plan(config, world_size),
                                 rank=rank, start_step=start_step, end_step=end_step,
                                 keys=model_config.all_domains)
    return micro_batch_loader(batches, num_workers=config.data.num_workers)
