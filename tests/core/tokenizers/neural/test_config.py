"""Configs: reference defaults (§1.1), metadata decoding, family dispatch, unsupported architectures."""

from __future__ import annotations

import pytest

from mm4m.core.spec import TokenizerFamily
from mm4m.core.tokenizers.neural import DiVAEConfig, TokenizerConfigError, VQVAEConfig, build_config
from mm4m.core.tokenizers.neural.config import config_family, parse_metadata
from mm4m.core.tokenizers.neural.presets import MLPPreset, parse_mlp_id


def test_divae_defaults_are_the_reference_constructor_defaults_not_the_training_script_ones():
    config = DiVAEConfig()
    assert (config.beta_schedule, config.prediction_type, config.scheduler) == ("squaredcos_cap_v2",
                                                                                 "v_prediction", "ddpm")
    assert config.zero_terminal_snr and config.thresholding and not config.clip_sample
    assert (config.enc_type, config.dec_type, config.codebook_size, config.latent_dim) == ("vit_b_enc",
                                                                                           "unet_patched", 16384, 32)
    vq = VQVAEConfig()
    assert (vq.dec_type, vq.post_mlp, vq.patch_size, vq.image_size, vq.quant_type) == ("vit_b_dec", False, 16, 224,
                                                                                       "lucid")


def test_metadata_values_decode_like_the_reference_loader():
    parsed = parse_metadata({"n_labels": "None", "post_mlp": "True", "ema_decay": "0.99", "sizes": "[4, 8]",
                             "beta_schedule": "shifted_cosine:0.5"}, source="f")
    assert parsed == {"n_labels": None, "post_mlp": True, "ema_decay": 0.99, "sizes": [4, 8],
                      "beta_schedule": "shifted_cosine:0.5"}
    with pytest.raises(TokenizerConfigError, match=r"f: config key 'bad'"):
        parse_metadata({"bad": "[1, 2"}, source="f")


@pytest.mark.parametrize(("config", "family"), [
    ({"dec_type": "unet_patched"}, TokenizerFamily.DIVAE),
    ({"beta_schedule": "linear"}, TokenizerFamily.DIVAE),
    ({"enc_type": "BottleneckMLP/B_6-Wi_1024", "quant_type": "memcodes"}, TokenizerFamily.MEMCODES_MLP),
    ({"enc_type": "vit_b_enc", "dec_type": "vit_b_dec"}, TokenizerFamily.VQVAE),
])
def test_family_is_read_from_the_config(config, family):
    assert config_family(config) is family
    assert build_config(config, source="f").family is family


@pytest.mark.parametrize(("config", "message"), [
    ({"dec_type": "uvit_b_p4_f16"}, r"f: 'dec_type': diffusion decoder 'uvit_b_p4_f16' is not supported"),
    ({"num_codebooks": 2}, r"'num_codebooks' must be 1 for the lucid quantizer, found 2"),
    ({"norm_codes": False}, r"'norm_codes' must be true"),
    ({"beta_schedule": "cubic"}, r"beta schedule: expected one of .*found 'cubic'"),
])
def test_unsupported_configs_are_clear_errors(config, message):
    with pytest.raises(TokenizerConfigError, match=message):
        build_config(config, source="f")


def test_mlp_ids_parse_with_an_optional_expansion():
    assert parse_mlp_id("BottleneckMLP/B_6-Wi_1024") == MLPPreset(blocks=6, width=1024, expansion=4)
    assert parse_mlp_id("BottleneckMLP/B_2-Wi_32-E_2") == MLPPreset(blocks=2, width=32, expansion=2)
    assert parse_mlp_id("vit_b_enc") is None
