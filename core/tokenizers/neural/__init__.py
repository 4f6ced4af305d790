"""Neural tokenizers of 4M / 4M-21: ViT VQ-VAEs, MLP + Memcodes, and DiVAE diffusion decoders (4m-tokenizers.md).

``load_tokenizer(path)`` reads a released-format safetensors checkpoint (config in its metadata), builds the
network of its family, loads the weights strictly and returns a :class:`mm4m.core.interfaces.Tokenizer`.
"""

from mm4m.core.tokenizers.neural.checkpoint import load_model, read_checkpoint
from mm4m.core.tokenizers.neural.config import DiVAEConfig, VQConfig, VQVAEConfig, build_config
from mm4m.core.tokenizers.neural.errors import CheckpointError, TokenizerConfigError, TokenizerInputError
from mm4m.core.tokenizers.neural.models import VQ, VQVAE, DiVAE
from mm4m.core.tokenizers.neural.presets import (
    UNetPreset,
    ViTPreset,
    register_unet_preset,
    register_vit_preset,
)
from mm4m.core.tokenizers.neural.schedulers import DDIMScheduler, DDPMScheduler, SchedulerConfig
from mm4m.core.tokenizers.neural.tokenizer import (
    DiVAETokenizer,
    NeuralTokenizer,
    VQVAETokenizer,
    load_tokenizer,
)

__all__ = [
    "VQ", "VQVAE", "CheckpointError", "DDIMScheduler", "DDPMScheduler", "DiVAE", "DiVAEConfig", "DiVAETokenizer",
    "NeuralTokenizer", "SchedulerConfig", "TokenizerConfigError", "TokenizerInputError", "UNetPreset", "VQConfig",
    "VQVAEConfig", "VQVAETokenizer", "ViTPreset", "build_config", "load_model", "load_tokenizer", "read_checkpoint",
    "register_unet_preset", "register_vit_preset",
]
