"""Build encoders, decoders and quantizers from a tokenizer config (architecture names → modules)."""

from __future__ import annotations

from torch import nn

from mm4m.core.tokenizers.neural.config import VQConfig, VQVAEConfig
from mm4m.core.tokenizers.neural.lucid import LucidQuantizer
from mm4m.core.tokenizers.neural.memcodes import Memcodes
from mm4m.core.tokenizers.neural.mlp import BottleneckMLP
from mm4m.core.tokenizers.neural.presets import VIT_PRESETS, parse_mlp_id
from mm4m.core.tokenizers.neural.vit import ViTDecoder, ViTEncoder


def build_encoder(config: VQConfig) -> tuple[nn.Module, int]:
    """The encoder named by ``enc_type`` and its output width."""
    mlp = parse_mlp_id(config.enc_type)
    if mlp is not None:
        return BottleneckMLP(mlp, dim_in=config.n_channels, dim_out=mlp.width), mlp.width
    preset = VIT_PRESETS[config.enc_type]
    encoder = ViTEncoder(preset, in_channels=config.n_channels, patch_size=config.patch_size,
                         patch_proj=config.patch_proj, grid=config.encoder_grid, post_mlp=config.post_mlp)
    return encoder, preset.dim


def build_decoder(config: VQVAEConfig) -> tuple[nn.Module, int]:
    """The feed-forward decoder named by ``dec_type`` and its input width."""
    mlp = parse_mlp_id(config.dec_type)
    if mlp is not None:
        return BottleneckMLP(mlp, dim_in=mlp.width, dim_out=config.output_channels), mlp.width
    preset = VIT_PRESETS[config.dec_type]
    decoder = ViTDecoder(preset, out_channels=config.output_channels, patch_size=config.decoder_patch,
                         patch_proj=config.patch_proj, grid=config.decoder_grid, post_mlp=config.post_mlp,
                         out_conv=config.out_conv)
    return decoder, preset.dim


def build_quantizer(config: VQConfig) -> LucidQuantizer | Memcodes:
    """The quantizer named by ``quant_type``."""
    if config.quant_type == "memcodes":
        return Memcodes(config.latent_dim, config.codebook_size, heads=config.num_codebooks)
    return LucidQuantizer(config.latent_dim, config.codebook_size, decay=config.ema_decay,
                          threshold_ema_dead_code=config.threshold_ema_dead_code,
                          replacement=config.code_replacement_policy, commitment_weight=config.commitment_weight,
                          norm_latents=config.norm_latents)
