"""Helpers of the training tests: a small synthetic token dataset, tiny-model configs and run outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml

from mm4m.core.data.shard_index import ModalityLayout
from mm4m.core.data.shards import ShardWriter

GRID_KEY, TEXT_KEY = "tok_semseg@224", "caption"


def write_token_dataset(directory: Path, num_samples: int = 24, seed: int = 0) -> Path:
    """Random semseg token grids (196 ids < 4096) and captions of 5–20 ids, 8 samples per shard."""
    rng = np.random.default_rng(seed)
    layouts = {GRID_KEY: ModalityLayout(dtype="int16", sample_shape=(196,)),
               TEXT_KEY: ModalityLayout(dtype="int32", sample_shape=(-1,), ragged=True)}
    with ShardWriter(directory, layouts, samples_per_shard=8) as writer:
        for _ in range(num_samples):
            writer.add({GRID_KEY: rng.integers(0, 4096, 196),
                        TEXT_KEY: rng.integers(300, 30000, int(rng.integers(5, 21)))})
    return directory


def tiny_config_dict(data: Path, output: Path, **sections) -> dict:
    """A 1+1-block, width-32 model on the token dataset; ``sections`` update the config's sections."""
    config = {
        "model": {"size": "tiny", "domains_in": [GRID_KEY, TEXT_KEY], "domains_out": [GRID_KEY, TEXT_KEY],
                  "overrides": {"dim": 32, "num_heads": 2, "encoder_depth": 1, "decoder_depth": 1}},
        "data": {"path": str(data), "num_input_tokens": 24, "num_target_tokens": 24},
        "optim": {"blr": 0.05, "total_tokens": 20 * 4 * 48, "warmup_tokens": 3 * 4 * 48, "clip_grad": 1.0},
        "batch": {"batch_size": 4},
        "run": {"output_dir": str(output), "log_every": 1, "checkpoint_every": 2, "progress": False},
    }
    for name, values in sections.items():
        config[name] = {**config[name], **values}
    return config


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def logged_losses(output: Path) -> list[float]:
    """The per-step losses of a run's ``metrics.jsonl``."""
    return [json.loads(line)["loss"] for line in (output / "metrics.jsonl").read_text().splitlines()]
