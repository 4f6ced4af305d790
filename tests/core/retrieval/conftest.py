"""Fixtures of the retrieval tests: the reference's tiny 4M checkpoint and a global tokenizer that fits it."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="session")
def fourm_checkpoint(shared_dir: Path, tmp_path_factory) -> Path:
    """The tiny SwiGLU checkpoint of the 4M goldens, gunzipped to a temp dir."""
    path = tmp_path_factory.mktemp("retrieval") / "tiny4m_swiglu.safetensors"
    path.write_bytes(gzip.decompress((shared_dir / "fixtures/4m-golden/tiny4m_swiglu.safetensors.gz").read_bytes()))
    return path


@pytest.fixture(scope="session")
def fourm(fourm_checkpoint: Path):
    from mm4m.core.generation.pipeline import load_model

    return load_model(fourm_checkpoint)


@pytest.fixture(scope="session")
def global_tokenizer(tmp_path_factory) -> Path:
    """A Memcodes MLP tokenizer with the checkpoint's tok_dinov2_global shape (16 tokens of 8192 codes, 24-d
    embeddings); the shared global_tiny fixture (4 codebooks of 64 codes) does not fit the tiny 4M model."""
    from mm4m.core.tokenizers.neural import VQVAE, VQVAEConfig
    from mm4m.core.tokenizers.training.release import save_released_checkpoint

    torch.manual_seed(0)
    config = VQVAEConfig(quant_type="memcodes", num_codebooks=16, codebook_size=8192, latent_dim=32, n_channels=24,
                         enc_type="BottleneckMLP/B_1-Wi_16", dec_type="BottleneckMLP/B_1-Wi_16", patch_proj=False,
                         post_mlp=True, patch_size=14)
    return save_released_checkpoint(VQVAE(config), tmp_path_factory.mktemp("tok") / "global16.safetensors")
