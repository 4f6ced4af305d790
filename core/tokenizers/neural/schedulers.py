"""DDPM and DDIM samplers of the DiVAE decoders (§5.2), step for step as the reference (diffusers-compatible).

Both predict x̂0 from the model output (``sample`` / ``epsilon`` / ``v_prediction``), clamp it to [−1, 1] when
``thresholding`` (the reference's dynamic thresholding with ``sample_max_value=1`` reduces to that) or
``clip_sample``, and step from t to t − T//n. DDPM adds ``fixed_small`` noise; DDIM (η = 0) is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator

from mm4m.core.tokenizers.neural.noise_schedules import alphas_cumprod

PredictionType = Literal["sample", "epsilon", "v_prediction"]
Spacing = Literal["leading", "trailing", "linspace"]


class SchedulerConfig(BaseModel):
    """Training-time diffusion settings a sampler must agree with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    num_train_timesteps: int = Field(default=1000, gt=1)
    beta_schedule: str = "squaredcos_cap_v2"
    prediction_type: PredictionType = "v_prediction"
    thresholding: bool = True
    clip_sample: bool = False
    zero_terminal_snr: bool = True

    @field_validator("beta_schedule")
    @classmethod
    def _known_schedule(cls, schedule: str) -> str:
        alphas_cumprod(schedule, 2)  # raises a ValueError naming the bad schedule
        return schedule


@dataclass(frozen=True)
class StepOutput:
    """One sampler step: the next sample and the (post-processed) x̂0 estimate."""

    prev_sample: torch.Tensor
    pred_original_sample: torch.Tensor


class _Sampler:
    """ᾱ table, timestep selection and x̂0 / ε̂ recovery shared by DDPM and DDIM."""

    def __init__(self, config: SchedulerConfig):
        self.config = config
        self.alphas_cumprod = alphas_cumprod(config.beta_schedule, config.num_train_timesteps,
                                             zero_terminal_snr=config.zero_terminal_snr)
        self.one = torch.tensor(1.0)
        self.num_inference_steps: int | None = None
        self.timesteps = torch.empty(0, dtype=torch.int64)

    def _leading(self, n: int) -> torch.Tensor:
        return torch.arange(n, dtype=torch.int64).flip(0) * (self.config.num_train_timesteps // n)

    def _check_steps(self, n: int) -> None:
        if not 1 <= n <= self.config.num_train_timesteps:
            raise ValueError(f"{type(self).__name__}: number of steps must be in [1, "
                             f"{self.config.num_train_timesteps}], found {n}")

    def _alpha_prev(self, t: int) -> torch.Tensor:
        prev = t - self.config.num_train_timesteps // self.num_inference_steps
        return self.alphas_cumprod[prev] if prev >= 0 else self.one

    def _x0_and_eps(self, model_output: torch.Tensor, t: int, sample: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        alpha_t = self.alphas_cumprod[t]
        beta_t = 1 - alpha_t
        kind = self.config.prediction_type
        if kind == "sample":
            x0 = model_output
            eps = (sample - alpha_t**0.5 * x0) / beta_t**0.5
        elif kind == "epsilon":
            x0 = (sample - beta_t**0.5 * model_output) / alpha_t**0.5
            eps = model_output
        else:
            x0 = alpha_t**0.5 * sample - beta_t**0.5 * model_output
            eps = alpha_t**0.5 * model_output + beta_t**0.5 * sample
        return x0, eps

    def _clamp(self, x0: torch.Tensor) -> torch.Tensor:
        return x0.clamp(-1.0, 1.0) if self.config.thresholding or self.config.clip_sample else x0


class DDPMScheduler(_Sampler):
    """Ancestral DDPM sampling on "leading" timesteps; noise is drawn from ``generator`` or passed in."""

    def set_timesteps(self, n: int, mode: Spacing = "leading") -> None:
        """Select n leading-spaced timesteps (the reference DDPM ignores ``mode``)."""
        self._check_steps(n)
        self.num_inference_steps = n
        self.timesteps = self._leading(n)

    def step(self, model_output: torch.Tensor, t: int, sample: torch.Tensor, *,
             generator: torch.Generator | None = None, noise: torch.Tensor | None = None) -> StepOutput:
        """Posterior mean from x̂0 and x_t, plus √σ²·z for t > 0 (z = ``noise`` or a fresh draw)."""
        t = int(t)
        alpha_t, alpha_prev = self.alphas_cumprod[t], self._alpha_prev(t)
        beta_t, beta_prev = 1 - alpha_t, 1 - alpha_prev
        current_alpha = alpha_t / alpha_prev
        current_beta = 1 - current_alpha
        x0 = self._clamp(self._x0_and_eps(model_output, t, sample)[0])
        x0_coeff = (alpha_prev**0.5 * current_beta) / beta_t
        sample_coeff = current_alpha**0.5 * beta_prev / beta_t
        prev = x0_coeff * x0 + sample_coeff * sample
        if t > 0:
            if noise is None:
                noise = torch.randn(model_output.shape, generator=generator, dtype=model_output.dtype)
            variance = torch.clamp(beta_prev / beta_t * current_beta, min=1e-20)
            prev = prev + variance**0.5 * noise
        return StepOutput(prev, x0)


class DDIMScheduler(_Sampler):
    """Deterministic DDIM (η = 0); ε̂ comes from the un-clamped x̂0, only x̂0 itself is clamped."""

    def set_timesteps(self, n: int, mode: Spacing = "trailing") -> None:
        """Select n timesteps spaced ``leading``, ``trailing`` (reference default) or ``linspace``."""
        self._check_steps(n)
        total = self.config.num_train_timesteps
        self.num_inference_steps = n
        if mode == "leading":
            self.timesteps = self._leading(n)
        elif mode == "trailing":
            self.timesteps = torch.arange(total, 0, -(total // n), dtype=torch.int64) - 1
        elif mode == "linspace":
            self.timesteps = torch.linspace(total, 1, n, dtype=torch.float64).round().to(torch.int64) - 1
        else:
            raise ValueError(f"DDIMScheduler: spacing must be 'leading', 'trailing' or 'linspace', found {mode!r}")

    def step(self, model_output: torch.Tensor, t: int, sample: torch.Tensor, *,
             generator: torch.Generator | None = None, noise: torch.Tensor | None = None) -> StepOutput:
        """x_prev = √ᾱ_prev·clamp(x̂0) + √(1−ᾱ_prev)·ε̂ (``generator`` / ``noise`` are unused: η = 0)."""
        t = int(t)
        alpha_prev = self._alpha_prev(t)
        x0, eps = self._x0_and_eps(model_output, t, sample)
        x0 = self._clamp(x0)
        return StepOutput(alpha_prev**0.5 * x0 + (1 - alpha_prev) ** 0.5 * eps, x0)

