"""Training config, token budgets, the learning-rate schedule and AdamW's parameter groups."""

from __future__ import annotations

import math

import pytest
import torch

from mm4m.core.model.fourm import FourM
from mm4m.core.training.config import TrainConfig, TrainConfigError, parse_token_count
from mm4m.core.training.optimizer import build_optimizer, decays
from mm4m.core.training.schedule import CosineSchedule, StepBudget

from .helpers import tiny_config_dict, write_config


def test_yaml_is_validated_and_paths_resolve_against_its_folder(token_dataset, tmp_path):
    config = TrainConfig.from_yaml(write_config(tmp_path / "run.yaml", tiny_config_dict("data", "out")))
    assert config.data.path == tmp_path / "data" and config.run.output_dir == tmp_path / "out"
    assert config.optim.betas == (0.9, 0.95) and config.optim.weight_decay == 0.05
    assert config.optim.implementation == "fused" and config.run.distributed == "ddp"


@pytest.mark.parametrize(("text", "tokens"), [(1000, 1000), ("10M", 10**7), ("500B", 5 * 10**11), ("1.5K", 1500)])
def test_token_counts_accept_suffixes(text, tokens):
    assert parse_token_count(text) == tokens


def test_errors_name_the_file_field_and_value(tmp_path):
    bad = tiny_config_dict("data", "out", optim={"total_tokens": "lots", "betas": [0.9, 1.5]})
    with pytest.raises(TrainConfigError) as err:
        TrainConfig.from_yaml(write_config(tmp_path / "bad.yaml", bad))
    message = str(err.value)
    assert str(tmp_path / "bad.yaml") in message
    assert "field 'optim.total_tokens'" in message and "found 'lots'" in message
    assert "field 'optim.betas'" in message
    with pytest.raises(TrainConfigError, match=r"field 'run.distributed': .* \(found 'zero'\)"):
        TrainConfig.parse(tiny_config_dict("data", "out", run={"distributed": "zero"}))
    with pytest.raises(TrainConfigError, match="field 'batch.batch_sizes': Extra inputs"):
        TrainConfig.parse(tiny_config_dict("data", "out", batch={"batch_sizes": 3}))
    with pytest.raises(TrainConfigError, match="'dim' 30 must be divisible by 'num_heads' 4"):
        TrainConfig.parse(tiny_config_dict("data", "out", model={"overrides": {"dim": 30, "num_heads": 4}}))


def test_token_budgets_become_steps_and_blr_scales_with_the_global_batch(tiny_config):
    budget = StepBudget.from_config(tiny_config, world_size=2)
    assert (budget.global_batch_size, budget.tokens_per_step) == (8, 8 * 48)
    assert (budget.warmup_steps, budget.total_steps) == (1, 10)
    schedule = CosineSchedule.from_config(tiny_config, budget)
    assert schedule.peak == pytest.approx(0.05 * 8 / 256)
    tiny = tiny_config.model_copy(update={"optim": tiny_config.optim.model_copy(update={"total_tokens": 100})})
    with pytest.raises(ValueError, match="less than one step"):
        StepBudget.from_config(tiny, world_size=1)


def test_schedule_warms_up_linearly_then_decays_by_cosine():
    schedule = CosineSchedule(peak=1.0, final=0.1, warmup_steps=5, total_steps=15)
    assert [schedule(t) for t in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert schedule(10) == pytest.approx(0.1 + 0.45 * (1 + math.cos(math.pi / 2)))
    assert schedule(15) == schedule(40) == pytest.approx(0.1)
    assert all(schedule(t) >= schedule(t + 1) for t in range(5, 20))


def test_weight_decay_skips_norms_biases_and_position_embeddings(tiny_config):
    model = FourM(tiny_config.model.fourm_config())
    optimizer = build_optimizer(model, tiny_config.optim)
    decayed, plain = ({id(p) for p in g["params"]} for g in optimizer.param_groups)
    names = {id(p): n for n, p in model.named_parameters()}
    assert {names[i] for i in plain} >= {"mask_token", "encoder_norm.weight", "encoder_embeddings.caption.mod_emb"}
    assert "encoder.0.attn.qkv.weight" in {names[i] for i in decayed}
    assert not decayed & plain and len(decayed | plain) == len(list(model.parameters()))
    assert decays("decoder_embeddings.caption.to_logits.weight", 2) and not decays("x.pos_emb", 3)
    assert optimizer.defaults["fused"] and optimizer.param_groups[0]["weight_decay"] == 0.05
    assert torch.is_tensor(optimizer.param_groups[0]["params"][0])
