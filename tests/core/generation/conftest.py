"""Fixtures of the generation tests: the reference manifest's pure goldens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def golden_dir(shared_dir: Path) -> Path:
    return shared_dir / "fixtures" / "4m-golden"


@pytest.fixture(scope="session")
def manifest(golden_dir: Path) -> dict[str, Any]:
    return json.loads((golden_dir / "manifest.json").read_text())


@pytest.fixture(scope="session")
def golden_model(golden_dir: Path, tmp_path_factory):
    """The reference's tiny SwiGLU checkpoint (gunzipped to a temp dir), loaded in eval mode."""
    import gzip

    from mm4m.core.model.fourm import FourM

    path = tmp_path_factory.mktemp("generation") / "tiny4m_swiglu.safetensors"
    path.write_bytes(gzip.decompress((golden_dir / "tiny4m_swiglu.safetensors.gz").read_bytes()))
    return FourM.from_pretrained(path).eval()


@pytest.fixture(scope="session")
def golden_generation(golden_dir: Path):
    """The reference's generation goldens G1–G6 (tensor name → tensor)."""
    from safetensors.torch import load_file

    return load_file(golden_dir / "generation.safetensors")


@pytest.fixture(scope="session")
def golden_rgb(golden_dir: Path):
    """Sample 0's rgb@224 pixels of the fixture batch (the input of every generation golden)."""
    import gzip

    from safetensors.torch import load

    batch = load(gzip.decompress((golden_dir / "batch.safetensors.gz").read_bytes()))
    return batch["rgb@224.tensor"][:1]


@pytest.fixture(scope="session")
def tiny_model():
    """A randomly initialised 1+1-layer FourM over grid, global and text modalities, in eval mode."""
    import torch

    from mm4m.core.model.config import FourMConfig
    from mm4m.core.model.fourm import FourM

    torch.manual_seed(0)
    config = FourMConfig(domains_in=["tok_rgb@224", "tok_dinov2_global", "caption", "det"],
                         domains_out=["tok_dinov2_global", "tok_depth@224", "caption", "det"],
                         dim=32, encoder_depth=1, decoder_depth=2, num_heads=4, act_layer="SiLU", gated_mlp=True)
    model = FourM(config).eval()
    with torch.no_grad():  # sharper, less uniform logits than the initialisation gives
        for name, parameter in model.named_parameters():
            if "to_logits" in name or "token_emb" in name:
                parameter.mul_(20)
    return model
