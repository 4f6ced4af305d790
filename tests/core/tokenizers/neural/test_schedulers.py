"""Sampler properties beyond the fixtures: ZTSNR end point, clamping, DDIM from a perfect x0 predictor."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mm4m.core.tokenizers.neural import DDIMScheduler, DDPMScheduler, SchedulerConfig
from mm4m.core.tokenizers.neural.noise_schedules import alphas_cumprod

X0_CONFIG = SchedulerConfig(beta_schedule="linear", prediction_type="sample")


@pytest.mark.parametrize("schedule", ["linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid"])
def test_zero_terminal_snr_ends_at_zero_and_keeps_the_first_value(schedule):
    plain = alphas_cumprod(schedule, 1000)
    rescaled = alphas_cumprod(schedule, 1000, zero_terminal_snr=True)
    assert rescaled[-1] == 0.0 and plain[-1] > 0.0
    torch.testing.assert_close(rescaled[0], plain[0])
    assert bool((rescaled[1:] <= rescaled[:-1]).all())


@settings(max_examples=25)
@given(steps=st.sampled_from([1, 2, 4, 10, 25]), seed=st.integers(0, 999))
def test_ddim_with_a_perfect_x0_predictor_lands_on_x0(steps, seed):
    gen = torch.Generator().manual_seed(seed)
    x0 = torch.rand(1, 2, 4, 4, generator=gen) * 2 - 1
    scheduler = DDIMScheduler(X0_CONFIG)
    scheduler.set_timesteps(steps)
    x = torch.randn(x0.shape, generator=gen)
    for t in scheduler.timesteps:
        x = scheduler.step(x0, t, x).prev_sample
    torch.testing.assert_close(x, x0, atol=1e-5, rtol=0.0)


@settings(max_examples=25)
@given(seed=st.integers(0, 999), scale=st.floats(1.0, 5.0))
def test_thresholding_clamps_the_x0_estimate_to_plus_minus_one(seed, scale):
    prediction = torch.randn(1, 1, 3, 3, generator=torch.Generator().manual_seed(seed)) * scale
    for scheduler in (DDPMScheduler(X0_CONFIG), DDIMScheduler(X0_CONFIG)):
        scheduler.set_timesteps(4)
        step = scheduler.step(prediction, scheduler.timesteps[0], torch.zeros_like(prediction),
                              noise=torch.zeros_like(prediction))
        assert torch.equal(step.pred_original_sample, prediction.clamp(-1, 1))


def test_the_last_ddpm_step_adds_no_noise_and_bad_step_counts_are_rejected():
    scheduler = DDPMScheduler(X0_CONFIG)
    scheduler.set_timesteps(4)
    x0 = torch.full((1, 1, 2, 2), 0.25)
    assert torch.equal(scheduler.step(x0, 0, torch.randn(1, 1, 2, 2)).prev_sample, x0)
    with pytest.raises(ValueError, match=r"number of steps must be in \[1, 1000\], found 0"):
        scheduler.set_timesteps(0)
