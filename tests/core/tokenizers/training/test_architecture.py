"""Size presets become released-format configs that fit the modality and its data."""

from __future__ import annotations

import pytest

from mm4m.core.spec import TokenizerFamily
from mm4m.core.tokenizers.training import ArchitectureError, ModelSize, TrainingConfig, tokenizer_config
from mm4m.registry.default import get_registry


def config_for(key: str, shape: tuple[int, ...], labels: int | None = None, **settings):
    settings = {"modality": key, **settings}
    return tokenizer_config(get_registry().spec(key), shape, TrainingConfig(**settings), labels)


def test_images_get_a_patchified_vit_vqvae():
    config = config_for("tok_rgb@224", (3, 32, 16))
    assert (config.enc_type, config.dec_type, config.quant_type) == ("vit_tiny_enc", "vit_tiny_dec", "lucid")
    assert config.patch_proj and config.patch_size == 4 and config.image_size == 32 and config.n_channels == 3
    assert config.threshold_ema_dead_code == pytest.approx(16 * 8 * 4 / 64 / 32)


def test_label_maps_embed_the_labels():
    config = config_for("tok_semseg@224", (16, 16), labels=6)
    assert config.n_labels == 6 and config.n_channels == 8 and config.output_channels == 6


def test_feature_maps_are_projected_per_position():
    config = config_for("tok_clip@224", (16, 6, 6))
    assert not config.patch_proj and config.encoder_grid == 6 and config.n_channels == 16


def test_global_vectors_get_an_mlp_with_memcodes():
    config = config_for("tok_dinov2_global", (24, 1, 1))
    assert config.family is TokenizerFamily.MEMCODES_MLP
    assert config.enc_type == "BottleneckMLP/B_2-Wi_32" and config.num_codebooks == 4 and config.n_channels == 24


def test_the_base_size_uses_the_modality_vocabulary_and_released_widths():
    config = config_for("tok_depth@224", (1, 224, 224), size=ModelSize.BASE)
    assert config.codebook_size == 8192 and config.enc_type == "vit_b_enc" and config.patch_size == 16
    assert config_for("tok_rgb@224", (3, 32, 32), codebook_size=128).codebook_size == 128


def test_sides_not_divisible_by_the_patch_are_refused():
    with pytest.raises(ArchitectureError, match=r"sides divisible by the patch size 4, found 18×16"):
        config_for("tok_rgb@224", (3, 18, 16))


def test_global_modalities_need_vectors():
    with pytest.raises(ArchitectureError, match=r"expected global vectors \(C,\) or \(C, 1, 1\), found .*\(24, 4, 4\)"):
        config_for("tok_dinov2_global", (24, 4, 4))
