"""The DiVAE decoding loop (§5.3): start from x_T ~ N(0, I) and run the UNet through the sampler's timesteps.

Randomness is replayed exactly like the reference (x_T first, then one draw per DDPM step with t > 0, all from
``generator``) or injected: pass ``x_T`` and, for DDPM, ``step_noise`` (one tensor per step with t > 0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from mm4m.core.tokenizers.neural.schedulers import DDIMScheduler, DDPMScheduler
from mm4m.core.tokenizers.neural.unet import PatchedUNet


@dataclass(frozen=True)
class SamplingStep:
    """What one step saw and produced (for inspection and the reference comparisons)."""

    timestep: int
    model_output: torch.Tensor
    pred_original_sample: torch.Tensor
    sample: torch.Tensor


def sample_images(unet: PatchedUNet, scheduler: DDPMScheduler | DDIMScheduler, cond: torch.Tensor, *,
                  shape: tuple[int, int, int, int], generator: torch.Generator | None = None,
                  x_T: torch.Tensor | None = None, step_noise: Sequence[torch.Tensor] | None = None,
                  on_step: Callable[[SamplingStep], None] | None = None) -> torch.Tensor:
    """Run the sampler (timesteps already set) from x_T to x_0 conditioned on quantized latents ``cond``."""
    if x_T is not None and tuple(x_T.shape) != shape:
        raise ValueError(f"diffusion sampling: expected x_T of shape {shape}, found {tuple(x_T.shape)}")
    noisy_steps = int((scheduler.timesteps > 0).sum()) if isinstance(scheduler, DDPMScheduler) else 0
    if step_noise is not None and len(step_noise) != noisy_steps:
        raise ValueError(f"diffusion sampling: expected {noisy_steps} step noises (one per DDPM step with t > 0), "
                         f"found {len(step_noise)}")
    x = torch.randn(shape, generator=generator, dtype=cond.dtype) if x_T is None else x_T.to(cond.dtype)
    noises = iter(step_noise or ())
    for t in scheduler.timesteps:
        out = unet(x, t, cond)
        out = out.to(torch.promote_types(out.dtype, torch.float32))
        noise = next(noises) if step_noise is not None and t > 0 else None
        step = scheduler.step(out, t, x, generator=generator, noise=noise)
        x = step.prev_sample
        if on_step is not None:
            on_step(SamplingStep(int(t), out, step.pred_original_sample, x))
    return x
