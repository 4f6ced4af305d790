"""Write a trained network in the released checkpoint format that `load_tokenizer` reads (§4.1)."""

from __future__ import annotations

import os
from pathlib import Path

from mm4m.core.checkpoint.safetensors_file import write_tensors
from mm4m.core.tokenizers.neural import VQVAE


def save_released_checkpoint(model: VQVAE, path: str | os.PathLike[str]) -> Path:
    """Full float32 state dict (parameters and codebook buffers) + ``{arg: str(value)}`` config metadata."""
    target = Path(path)
    metadata = {key: str(value) for key, value in model.config.model_dump().items()}
    state = {key: tensor.float() for key, tensor in model.state_dict().items()}
    write_tensors(target, state, metadata)
    return target
