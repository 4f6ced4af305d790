"""Recompute the DiVAE fixture tensors in a fresh process, so that CPU-kernel settings apply from the start.

Usage: python divae_golden_runner.py <fixture dir> <divae_tiny.safetensors> <out.safetensors>

The conftest runs this with ``ONEDNN_MAX_CPU_ISA=AVX2`` (the fixtures were made with oneDNN's AVX2 convolution
kernels; on an AVX-512 CPU oneDNN picks AVX-512 kernels, which round differently) and ``ATEN_CPU_CAPABILITY=avx2``.
Both variables are read once, when the first kernel is dispatched, hence the separate process.
Output keys mirror the fixture keys in ``tok_io.safetensors`` (``<P>.ddpm4.decoded_injected`` is the DDPM decode
from the stored x_T and step noises instead of the generator).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from mm4m.core.tokenizers.neural import (DDIMScheduler, UNetPreset, ViTPreset, load_model, register_unet_preset,
                                         register_vit_preset)

P = "divae_tiny"


def register_presets(manifest: dict) -> None:
    """Register the fixtures' test-only presets (``manifest["presets"]``) so the tiny checkpoints load."""
    for name, preset in manifest["presets"].items():
        if preset["class"] == "unet.PatchedUNetCondCat":
            register_unet_preset(name, UNetPreset(
                patch_size=preset["patch_size"], model_channels=preset["model_channels"],
                num_res_blocks=preset["num_res_blocks"], attention_resolutions=tuple(preset["attention_resolutions"]),
                channel_mult=tuple(preset["channel_mult"])))
        else:
            register_vit_preset(name, ViTPreset(dim=preset["dim_tokens"], depth=preset["depth"],
                                                heads=preset["num_heads"]))


@torch.no_grad()
def recompute(model, io: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """UNet outputs (single calls, and per DDIM step on the reference's trajectory) and full 4-step decodes."""
    unet, quant, tokens = model.decoder, io[f"{P}.in16.quant"], io[f"{P}.in16.tokens"]
    x_t = io[f"{P}.unet.x_t"]
    out = {
        f"{P}.unet.out_tvec": unet(x_t, io[f"{P}.unet.t"], quant),
        f"{P}.unet.out_t500": unet(x_t, torch.tensor(500), quant),
        f"{P}.unet.out_t500_masked": unet(x_t, torch.tensor(500), quant, io[f"{P}.unet.cond_mask"]),
    }
    inputs = [io[f"{P}.ddim4.x_T"], *io[f"{P}.ddim4.sample_per_step"][:-1]]
    out[f"{P}.ddim4.model_out_per_step"] = torch.stack(
        [unet(x, t, quant) for x, t in zip(inputs, io[f"{P}.ddim4.timesteps"])])

    steps = []
    out[f"{P}.ddim4.decoded"] = model.decode_tokens(
        tokens, timesteps=4, scheduler=DDIMScheduler(model.scheduler_config),
        generator=torch.Generator().manual_seed(1234), image_size=16, scheduler_timesteps_mode="trailing",
        on_step=steps.append)
    out[f"{P}.ddim4.pred_x0_per_step"] = torch.stack([s.pred_original_sample for s in steps])
    out[f"{P}.ddim4.sample_per_step"] = torch.stack([s.sample for s in steps])

    steps = []
    out[f"{P}.ddpm4.decoded"] = model.decode_tokens(tokens, timesteps=4, image_size=16, on_step=steps.append,
                                                    generator=torch.Generator().manual_seed(4321))
    out[f"{P}.ddpm4.sample_per_step"] = torch.stack([s.sample for s in steps])
    out[f"{P}.ddpm4.decoded_injected"] = model.decode_tokens(
        tokens, timesteps=4, image_size=16, x_T=io[f"{P}.ddpm4.x_T"],
        step_noise=list(io[f"{P}.ddpm4.variance_noise_per_step"][:3]))
    return out


def main(fixture_dir: str, checkpoint: str, out: str) -> None:
    torch.set_num_threads(1)
    fixtures = Path(fixture_dir)
    register_presets(json.loads((fixtures / "manifest.json").read_text()))
    model = load_model(checkpoint).eval()
    results = recompute(model, load_file(str(fixtures / "tok_io.safetensors")))
    save_file({k: v.contiguous() for k, v in results.items()}, out)


if __name__ == "__main__":
    main(*sys.argv[1:])
