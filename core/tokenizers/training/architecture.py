"""Network configs for training: size presets (tiny / small / base) turned into a released-format `VQVAEConfig`,
so trained checkpoints load with `load_tokenizer` like released ones."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mm4m.core.spec import ModalityKind, ModalitySpec
from mm4m.core.tokenizers.neural import VQVAEConfig
from mm4m.core.tokenizers.training.config import ModelSize, TrainingConfig
from mm4m.core.tokenizers.training.data import SampleLayout, layout_for

DEAD_CODE_COEFFICIENT = 32
"""Dead-code threshold = batch · tokens per sample / K / 32, as the shipped training configs set it (§3.1)."""


class ArchitecturePreset(BaseModel):
    """Networks and codebook of one size: ViT for grids, bottleneck MLP + Memcodes for global vectors."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    vit: str = Field(description="ViT preset prefix; '_enc' / '_dec' are appended.")
    mlp: str = Field(description="BottleneckMLP id of both sides of global-vector tokenizers.")
    patch_size: int = Field(gt=0)
    codebook_size: int | None = Field(gt=1, description="Codes K; None means the modality's vocab_size.")
    latent_dim: int = Field(gt=0, description="Lucid code width D.")
    label_embedding: int = Field(gt=0, description="Width of the label embedding of semseg tokenizers.")
    memcodes_heads: int = Field(gt=0, description="Memcodes heads = tokens per global vector.")
    memcodes_latent: int = Field(gt=0)


SIZES: dict[ModelSize, ArchitecturePreset] = {
    ModelSize.TINY: ArchitecturePreset(vit="vit_tiny", mlp="BottleneckMLP/B_2-Wi_32", patch_size=4,
                                       codebook_size=64, latent_dim=8, label_embedding=8, memcodes_heads=4,
                                       memcodes_latent=32),
    ModelSize.SMALL: ArchitecturePreset(vit="vit_s", mlp="BottleneckMLP/B_4-Wi_512", patch_size=16,
                                        codebook_size=1024, latent_dim=32, label_embedding=64, memcodes_heads=8,
                                        memcodes_latent=512),
    ModelSize.BASE: ArchitecturePreset(vit="vit_b", mlp="BottleneckMLP/B_6-Wi_1024", patch_size=16,
                                       codebook_size=None, latent_dim=32, label_embedding=64, memcodes_heads=16,
                                       memcodes_latent=1024),
}


class ArchitectureError(ValueError):
    """Training data whose shape the chosen architecture cannot take."""


def _codebook_size(spec: ModalitySpec, config: TrainingConfig, preset: ArchitecturePreset) -> int:
    size = config.codebook_size or preset.codebook_size or spec.vocab_size
    if size is None:
        raise ArchitectureError(f"modality {spec.key!r} has no vocab_size: pass a codebook size")
    return size


def tokenizer_config(spec: ModalitySpec, sample_shape: tuple[int, ...], config: TrainingConfig,
                     num_labels: int | None = None) -> VQVAEConfig:
    """The VQ-VAE of ``config.size`` for samples of ``sample_shape`` ((C, H, W), or (H, W) label maps)."""
    preset = SIZES[config.size]
    codebook_size = _codebook_size(spec, config, preset)
    layout = layout_for(spec)
    global_vector = layout is SampleLayout.EMBEDDING and tuple(sample_shape[1:]) == (1, 1)
    if spec.kind is ModalityKind.GLOBAL_TOKENS and not global_vector:
        raise ArchitectureError(f"modality {spec.key!r}: expected global vectors (C,) or (C, 1, 1), found samples "
                                f"of shape {tuple(sample_shape)}")
    if global_vector:
        return VQVAEConfig(enc_type=preset.mlp, dec_type=preset.mlp, quant_type="memcodes", image_size=1,
                           patch_size=1, patch_proj=False, post_mlp=True, n_channels=sample_shape[0],
                           codebook_size=codebook_size, num_codebooks=preset.memcodes_heads,
                           latent_dim=preset.memcodes_latent, sync_codebook=False)
    patch = config.patch_size or preset.patch_size
    height, width = sample_shape[-2:]
    patch_proj = layout is not SampleLayout.EMBEDDING
    if patch_proj and (height % patch or width % patch):
        raise ArchitectureError(f"modality {spec.key!r}: expected sample sides divisible by the patch size {patch}, "
                                f"found {height}×{width}")
    grid_h, grid_w = (height // patch, width // patch) if patch_proj else (height, width)
    labels = layout is SampleLayout.LABELS
    return VQVAEConfig(
        enc_type=f"{preset.vit}_enc", dec_type=f"{preset.vit}_dec", quant_type="lucid", patch_size=patch,
        image_size=max(grid_h, grid_w) * patch, patch_proj=patch_proj, post_mlp=True,
        n_channels=preset.label_embedding if labels else sample_shape[0], n_labels=num_labels if labels else None,
        codebook_size=codebook_size, latent_dim=preset.latent_dim, sync_codebook=False,
        threshold_ema_dead_code=config.batch_size * grid_h * grid_w / codebook_size / DEAD_CODE_COEFFICIENT)
