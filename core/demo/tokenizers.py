"""Fitting the demo's tokenizers on the training scenes: three small ViT VQ-VAEs and a WordPiece vocabulary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from mm4m.core.demo.config import DemoConfig
from mm4m.core.demo.modalities import CAPTION_KEY, DemoKeys
from mm4m.core.demo.scenes import DemoScenes
from mm4m.core.tokenizers.neural.tokenizer import VQVAETokenizer
from mm4m.core.tokenizers.text import TextTokenizer, train_text_tokenizer
from mm4m.core.tokenizers.training import TrainingConfig, TrainingReport, train_tokenizer
from mm4m.registry.default import get_registry

TEXT_TOKENIZER_FILE = "scene_caption_wordpiece.json"
EVAL_SAMPLES = 64
TOKENIZER_LEARNING_RATE = 5e-3


@dataclass(frozen=True)
class DemoTokenizers:
    """The fitted tokenizers by modality key, and the image tokenizers' training reports."""

    image: dict[str, VQVAETokenizer]
    text: TextTokenizer
    reports: dict[str, TrainingReport]


def fit_text_tokenizer(scenes: DemoScenes, config: DemoConfig, out_dir: Path) -> TextTokenizer:
    """A WordPiece vocabulary (4M special layout first) fitted on the training captions, saved to ``out_dir``."""
    text = train_text_tokenizer((r.caption for r in scenes.train.records), vocab_size=config.text_vocab_size,
                                min_frequency=1, modality=CAPTION_KEY)
    text.save(out_dir / TEXT_TOKENIZER_FILE)
    return text


def image_training_data(scenes: DemoScenes, keys: DemoKeys) -> dict[str, torch.Tensor]:
    """Raw training samples per image-token key, in each spec's raw domain."""
    return {keys.tok_rgb: scenes.train.rgb, keys.tok_depth: scenes.train.depth, keys.tok_semseg: scenes.train.semseg}


def fit_image_tokenizers(scenes: DemoScenes, config: DemoConfig, keys: DemoKeys, out_dir: Path, *,
                         show_progress: bool,
                         on_fitted: Callable[[str, TrainingReport], None] = lambda key, report: None
                         ) -> tuple[dict[str, VQVAETokenizer], dict[str, TrainingReport]]:
    """Train one tiny ViT VQ-VAE per image modality into ``out_dir/<key>/`` and load it back."""
    tokenizers, reports = {}, {}
    for key, data in image_training_data(scenes, keys).items():
        steps = config.rgb_tokenizer_steps if key == keys.tok_rgb else config.tokenizer_steps
        settings = TrainingConfig(modality=key, steps=steps, batch_size=config.tokenizer_batch_size,
                                  patch_size=config.patch_size, codebook_size=config.codebook_size,
                                  learning_rate=TOKENIZER_LEARNING_RATE, warmup_steps=min(20, steps - 1),
                                  seed=config.seed, device="cpu", save_every=steps, eval_samples=EVAL_SAMPLES)
        report = train_tokenizer(settings, data, out_dir / key.replace("@", "-"), show_progress=show_progress)
        tokenizers[key] = get_registry().get(key).tokenizer(report.checkpoint)
        reports[key] = report
        on_fitted(key, report)
    return tokenizers, reports
