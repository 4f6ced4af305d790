"""Training the tiny 4M on the demo shards through the training engine (`mm4m.core.training`)."""

from __future__ import annotations

from pathlib import Path

import yaml

from mm4m.core.checkpoint.safetensors_file import atomic_write_bytes
from mm4m.core.demo.config import DemoConfig
from mm4m.core.demo.modalities import DemoKeys
from mm4m.core.model.fourm import FourM
from mm4m.core.training import TrainConfig, TrainResult, train
from mm4m.core.training.checkpoints import MODEL_FILE, latest_checkpoint

MIXTURE_FILE = "alphas-mixture.yaml"
MIXTURE_WEIGHTS = (0.6, 0.3, 0.1)
"""Per-sample choice between the three masking components: RGB → all, caption → RGB tokens, any → any."""


def alphas_mixture(keys: DemoKeys) -> dict:
    """The reference's mixture format; each modality lists one α per component (0 = never)."""
    def row(inputs: tuple[float, ...], targets: tuple[float, ...], keep: tuple[str, ...] = ("random",) * 3) -> dict:
        return {"input_alphas": list(inputs), "target_alphas": list(targets), "keep": list(keep)}

    return {"sampling_weights": list(MIXTURE_WEIGHTS), "alphas_mixture": {
        keys.rgb: row((1.0, 0.0, 0.5), (0.0, 0.0, 0.0)),
        keys.tok_rgb: row((0.0, 0.0, 0.5), (0.0, 1.0, 0.5)),
        keys.tok_depth: row((0.0, 0.0, 0.5), (1.0, 0.0, 0.5)),
        keys.tok_semseg: row((0.0, 0.0, 0.5), (1.0, 0.0, 0.5)),
        keys.caption: row((0.0, 1.0, 0.5), (1.0, 0.0, 0.5), keep=("random", "all", "random")),
    }}


def train_config(config: DemoConfig, keys: DemoKeys, dataset: Path, output_dir: Path, mixture: Path, *,
                 show_progress: bool) -> TrainConfig:
    """The engine's run config: a custom-width 4M over the demo keys, fp32 AdamW with warm-up and cosine decay."""
    tokens_per_step = config.batch_size * (config.num_input_tokens + config.num_target_tokens)
    return TrainConfig.parse({
        "model": {"size": "tiny", "variant": "swiglu_nobias", "domains_in": keys.inputs, "domains_out": keys.targets,
                  "overrides": {"dim": config.dim, "encoder_depth": config.encoder_depth,
                                "decoder_depth": config.decoder_depth, "num_heads": config.num_heads,
                                "image_size": config.image_size, "patch_size": config.patch_size}},
        "data": {"path": str(dataset), "num_input_tokens": config.num_input_tokens,
                 "num_target_tokens": config.num_target_tokens, "alphas_config": str(mixture)},
        "optim": {"blr": config.blr, "min_blr": config.blr / 100, "clip_grad": 1.0, "implementation": "foreach",
                  "warmup_tokens": config.warmup_steps * tokens_per_step,
                  "total_tokens": config.train_steps * tokens_per_step},
        "batch": {"batch_size": config.batch_size},
        "run": {"output_dir": str(output_dir), "seed": config.seed, "precision": "fp32", "log_every": 10,
                "checkpoint_every": config.train_steps, "progress": show_progress},
    }, source="demo training config")


def train_model(config: DemoConfig, keys: DemoKeys, dataset: Path, output_dir: Path, *,
                show_progress: bool) -> tuple[FourM, TrainResult]:
    """Train into ``output_dir`` (mixture, config copy, metrics, loss curve, checkpoint); returns the model."""
    output_dir.mkdir(parents=True, exist_ok=True)
    mixture = output_dir / MIXTURE_FILE
    atomic_write_bytes(mixture, yaml.safe_dump(alphas_mixture(keys), sort_keys=False).encode())
    result = train(train_config(config, keys, dataset, output_dir, mixture, show_progress=show_progress))
    model = FourM.from_pretrained(latest_checkpoint(output_dir) / MODEL_FILE)
    return model.eval(), result
