"""Batches of realistic shape for the registry's 4M-21 modalities, shared by the masking tests."""

from __future__ import annotations

import random

import torch

from mm4m.core.masking import MaskingConfig, builtin_config_path, load_alphas_mixture
from mm4m.core.spec import ModalityKind, ModalitySpec
from mm4m.testing.strategies import FIRST_ORDINARY_ID

MIX_4M21 = "mix_mod21_all2allmix_rgb2all_capT5bias"
INPUT_ONLY_4M21 = ("rgb@224", "t5_caption")


def config_4m21(num_input_tokens: int = 256, num_target_tokens: int = 256) -> MaskingConfig:
    """The 4M-21 cc12m setup: 19 input domains, 17 output domains, the shipped K=7 mixture."""
    mixture = load_alphas_mixture(builtin_config_path(MIX_4M21))
    keys = tuple(sorted(mixture.modalities))
    return MaskingConfig(in_domains=keys, out_domains=tuple(k for k in keys if k not in INPUT_ONLY_4M21),
                         mixture=mixture, num_input_tokens=num_input_tokens, num_target_tokens=num_target_tokens)


def realistic_batch(specs: dict[str, ModalitySpec], size: int, seed: int = 0, t5_channels: int | None = None) -> dict:
    """Random data for ``specs``: token grids, pixels, text of random length, metadata as chunks."""
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    batch = {}
    for key, spec in specs.items():
        if spec.kind is ModalityKind.IMAGE_PIXELS:
            batch[key] = torch.rand(size, spec.channels, spec.input_size, spec.input_size, generator=gen)
        elif spec.kind.is_image:
            batch[key] = torch.randint(0, spec.vocab_size, (size, spec.max_tokens), generator=gen)
        elif spec.kind is ModalityKind.SEQUENCE_EMBEDDING:
            batch[key] = [torch.randn(rng.randint(1, spec.max_tokens), t5_channels or spec.channels, generator=gen)
                          for _ in range(size)]
        elif key == "metadata":
            batch[key] = [[[rng.randint(1204, 2203), rng.randint(204, 1203)] for _ in range(rng.randint(0, 21))]
                          for _ in range(size)]
        else:
            batch[key] = [[rng.randint(FIRST_ORDINARY_ID, spec.vocab_size - 1)
                           for _ in range(rng.randint(0, spec.max_tokens))] for _ in range(size)]
    return batch


def text_spec(key: str = "text", max_tokens: int = 16) -> ModalitySpec:
    """A small text modality of the shared vocabulary."""
    return ModalitySpec(key=key, kind="text_sequence", max_tokens=max_tokens, vocab_size=30000,
                        positional_embedding="sincos_1d", decoding="autoregressive",
                        tokenizer={"family": "wordpiece", "id": "test-text"})
