"""Building blocks: sin-cos tables, positional resizing, the patched UNet's shapes, ViT/UNet key layouts."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mm4m.core.tokenizers.neural import (
    DiVAE,
    DiVAEConfig,
    UNetPreset,
    ViTPreset,
    register_unet_preset,
    register_vit_preset,
)
from mm4m.core.tokenizers.neural.unet import PatchedUNet, timestep_features
from mm4m.core.tokenizers.neural.vit import resized_pos_emb, sincos_pos_emb_2d

TINY_UNET = UNetPreset(patch_size=2, model_channels=32, num_res_blocks=1, attention_resolutions=(2,),
                       channel_mult=(1, 2))


def test_sincos_table_blocks_vary_along_rows_then_columns():
    table = sincos_pos_emb_2d(8, 3)[0]  # (8, 3, 3): [sin row, cos row, sin col, cos col] × 2 frequencies
    assert torch.equal(table[0, :, 0], torch.sin(torch.arange(3.0)))
    assert torch.equal(table[0, :, 0], table[0, :, 2])  # constant along columns
    assert torch.equal(table[4, 0, :], torch.sin(torch.arange(3.0)))
    assert torch.equal(table[2, :, 1], torch.cos(torch.arange(3.0)))


@settings(max_examples=20)
@given(grid=st.integers(1, 6), dim=st.sampled_from([4, 8]), seed=st.integers(0, 999))
def test_resizing_a_table_to_its_own_grid_is_the_identity(grid, dim, seed):
    table = torch.randn(1, dim, grid, grid, generator=torch.Generator().manual_seed(seed))
    assert torch.equal(resized_pos_emb(table, grid, grid), table.flatten(2).transpose(1, 2))


def test_time_features_put_cosines_first():
    features = timestep_features(torch.tensor([0, 7]), 8)
    assert torch.equal(features[0], torch.tensor([1.0] * 4 + [0.0] * 4))
    assert torch.allclose(features[1, 0], torch.cos(torch.tensor(7.0)))


def test_patched_unet_maps_images_to_images_and_counts_its_downsamplings():
    unet = PatchedUNet(TINY_UNET, image_channels=3, cond_channels=5).eval()
    assert unet.size_multiple == 4
    x, cond = torch.randn(2, 3, 8, 8), torch.randn(2, 5, 2, 2)
    with torch.no_grad():
        out = unet(x, torch.tensor(10), cond)
        masked = unet(x, torch.tensor(10), cond, torch.ones(2, 2, 2, dtype=torch.bool))
        zeroed = unet(x, torch.tensor(10), torch.zeros_like(cond))
    assert out.shape == x.shape
    assert torch.equal(masked, zeroed)  # a fully masked condition is an all-zero condition
    assert unet.input_blocks[0][0].weight.shape[1] == 3 * 4 + 5


def test_patched_unet_embeds_a_single_timestep_once_and_broadcasts_it():
    unet = PatchedUNet(TINY_UNET, image_channels=3, cond_channels=5).eval()
    for param in unet.parameters():  # make the zero-initialised output convolutions non-trivial
        param.data = torch.randn(param.shape, generator=torch.Generator().manual_seed(param.numel())) * 0.1
    x, cond = torch.randn(2, 3, 8, 8), torch.randn(2, 5, 2, 2)
    seen = []
    hook = unet.time_embed.register_forward_hook(lambda module, args, out: seen.append(out.shape))
    with torch.no_grad():
        scalar, one, per_sample = (unet(x, t, cond) for t in (torch.tensor(10), torch.tensor([10]),
                                                                torch.tensor([10, 10])))
    hook.remove()
    assert seen == [(1, 128), (1, 128), (2, 128)]  # the reference's batch-1 product for one timestep
    assert torch.equal(scalar, one)
    torch.testing.assert_close(scalar, per_sample, atol=1e-5, rtol=1e-5)  # same values up to float32 rounding
    with pytest.raises(ValueError, match="one timestep or one per sample"):
        unet(x, torch.tensor([1, 2, 3]), cond)


def test_divae_training_forward_predicts_from_the_clean_images_tokens():
    register_vit_preset("vit_unit_enc", ViTPreset(dim=16, depth=1, heads=2))
    register_unet_preset("unet_unit", TINY_UNET)
    config = DiVAEConfig(enc_type="vit_unit_enc", image_size=16, patch_size=8, codebook_size=8, latent_dim=4,
                         dec_type="unet_unit")
    model = DiVAE(config).eval()
    assert sorted({key.split(".")[1] for key in model.state_dict() if key.startswith("decoder.")}) == [
        "input_blocks", "middle_block", "out", "output_blocks", "time_embed"]
    clean = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        prediction, code_loss = model(clean, torch.randn_like(clean), torch.tensor([3]))
    assert prediction.shape == clean.shape and float(code_loss.sum()) == 0.0
