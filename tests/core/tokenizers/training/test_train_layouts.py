"""Label maps and global embeddings train too (cross-entropy / cosine) and load back with `load_tokenizer`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from mm4m.core.tokenizers.neural import load_tokenizer
from mm4m.core.tokenizers.training import TrainingConfig, TrainingError, train_tokenizer
from mm4m.registry.default import get_registry


def test_semseg_tokenizer_trains_from_a_png_directory(tmp_path, blob_labels):
    data = tmp_path / "data"
    data.mkdir()
    labels = blob_labels(12)
    for index, label_map in enumerate(labels):
        Image.fromarray(label_map.numpy().astype(np.uint8), mode="L").save(data / f"{index:03d}.png")
    config = TrainingConfig(modality="tok_semseg@224", steps=40, batch_size=8, learning_rate=3e-3, device="cpu",
                            eval_samples=6, example_count=2)
    report = train_tokenizer(config, data, tmp_path / "run", show_progress=False)
    assert report.primary_metric == "miou"
    assert report.trained["accuracy"] > report.untrained["accuracy"]
    assert report.trained["miou"] > report.untrained["miou"]
    spec = get_registry().spec("tok_semseg@224")
    tokenizer = load_tokenizer(report.checkpoint, modality=spec.key, normalization=spec.normalization)
    decoded = tokenizer.detokenize(tokenizer.tokenize(labels[:2]))
    assert decoded.shape == (2, 16, 16) and set(decoded.unique().tolist()) <= {0, 1, 2, 3, 255}


def test_global_embedding_tokenizer_improves_cosine(tmp_path):
    generator = torch.Generator().manual_seed(0)
    centres = torch.randn(4, 24, generator=generator)
    vectors = centres[torch.arange(32) % 4] + 0.1 * torch.randn(32, 24, generator=generator)
    config = TrainingConfig(modality="tok_dinov2_global", steps=40, batch_size=16, learning_rate=3e-3,
                            device="cpu", eval_samples=8, example_count=2)
    report = train_tokenizer(config, vectors, tmp_path, show_progress=False)
    assert report.trained["cosine"] > report.untrained["cosine"]
    ids = load_tokenizer(report.checkpoint).tokenize(vectors[:3, :, None, None])
    assert ids.shape == (3, 4, 1, 1)


def test_modalities_without_a_neural_tokenizer_are_refused(tmp_path):
    with pytest.raises(TrainingError, match="'caption': expected a VQ-VAE, DiVAE or Memcodes tokenizer family "
                                            "to train, found 'wordpiece'"):
        train_tokenizer(TrainingConfig(modality="caption", steps=2), torch.zeros(1), tmp_path, show_progress=False)
