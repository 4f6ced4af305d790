"""Reconstruction metrics: perfect reconstructions score best, and known cases give known values."""

from __future__ import annotations

import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.tokenizers.training.objectives import (
    EmbeddingObjective,
    LabelObjective,
    PixelObjective,
    objective_for,
)
from mm4m.registry.default import get_registry


def spec(key: str):
    return get_registry().spec(key)


def test_each_modality_family_gets_its_objective():
    assert isinstance(objective_for(spec("tok_rgb@224"), (3, 16, 16)), PixelObjective)
    assert objective_for(spec("tok_rgb@224"), (3, 16, 16)).primary_metric == "psnr"
    assert objective_for(spec("tok_depth@224"), (1, 16, 16)).primary_metric == "mse"
    assert isinstance(objective_for(spec("tok_semseg@224"), (16, 16)), LabelObjective)
    clip = objective_for(spec("tok_clip@224"), (16, 4, 4))
    assert isinstance(clip, EmbeddingObjective) and not clip.global_vectors
    assert objective_for(spec("tok_dinov2_global"), (24, 1, 1)).global_vectors


@given(seed=st.integers(0, 2**16), offset=st.floats(0.01, 0.5))
def test_psnr_is_the_raw_domain_mse_in_decibels(seed, offset):
    objective = objective_for(spec("tok_rgb@224"), (3, 8, 8))
    raw = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(seed)) * 0.4
    target = objective.normalizer.normalize(raw)
    shifted = objective.normalizer.normalize(raw + offset)
    metrics = objective.metrics(shifted, target)
    assert math.isclose(metrics["mse"], offset**2, rel_tol=1e-3)
    assert math.isclose(metrics["psnr"], -20 * math.log10(offset), rel_tol=1e-3)


@given(seed=st.integers(0, 2**16))
def test_perfect_reconstructions_score_best(seed):
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 5, (2, 6, 6), generator=generator)
    logits = torch.nn.functional.one_hot(labels, 5).permute(0, 3, 1, 2).float()
    assert objective_for(spec("tok_semseg@224"), (6, 6)).metrics(logits, labels) == {"miou": 1.0, "accuracy": 1.0}
    vectors = torch.randn(3, 8, 1, 1, generator=generator)
    embedding = objective_for(spec("tok_dinov2_global"), (8, 1, 1))
    assert math.isclose(embedding.metrics(vectors * 2.0, vectors)["cosine"], 1.0, rel_tol=1e-6)
    assert embedding.loss(vectors, vectors).abs() < 1e-6


def test_miou_and_accuracy_of_a_known_prediction():
    target = torch.tensor([[[0, 0, 1, 1]]])
    predicted = torch.tensor([[[0, 1, 1, 1]]])
    logits = torch.nn.functional.one_hot(predicted, 2).permute(0, 3, 1, 2).float()
    metrics = objective_for(spec("tok_semseg@224"), (6, 6)).metrics(logits, target)
    assert metrics["accuracy"] == 0.75
    assert math.isclose(metrics["miou"], (1 / 2 + 2 / 3) / 2)
