"""ᾱ_t tables of the diffusion schedulers (§5.2): β schedules, shifted cosine, zero-terminal-SNR rescaling."""

from __future__ import annotations

import math

import torch

BETA_START, BETA_END, MAX_BETA = 1e-4, 0.02, 0.999
SHIFTED_COSINE_PREFIX = "shifted_cosine:"
BETA_SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid", f"{SHIFTED_COSINE_PREFIX}<shift>")


def _betas(schedule: str, steps: int, dtype: torch.dtype) -> torch.Tensor:
    if schedule == "linear":
        return torch.linspace(BETA_START, BETA_END, steps, dtype=dtype)
    if schedule == "scaled_linear":
        return torch.linspace(BETA_START**0.5, BETA_END**0.5, steps, dtype=dtype) ** 2
    if schedule == "squaredcos_cap_v2":
        def alpha_bar(t: float) -> float:
            return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
        return torch.tensor([min(1 - alpha_bar((i + 1) / steps) / alpha_bar(i / steps), MAX_BETA)
                             for i in range(steps)], dtype=dtype)
    if schedule == "sigmoid":
        return torch.sigmoid(torch.linspace(-6, 6, steps, dtype=dtype)) * (BETA_END - BETA_START) + BETA_START
    raise ValueError(f"beta schedule: expected one of {', '.join(BETA_SCHEDULES)}, found {schedule!r}")


def _shifted_cosine_alphas_cumprod(shift: float, steps: int, dtype: torch.dtype) -> torch.Tensor:
    """ᾱ = sigmoid(log-SNR), log-SNR = −2·(ln tan(π·t/2) + ln shift) clamped to ±15; the last ᾱ is exactly 0."""
    t = torch.linspace(0, 1, steps, dtype=torch.float64)
    log_snr = (-2 * (torch.log(torch.tan(math.pi * t / 2)) + math.log(shift))).clamp(-15, 15)
    alphas_cumprod = torch.sigmoid(log_snr)
    alphas_cumprod[-1] = 0.0
    return alphas_cumprod.to(dtype)


def _rescale_zero_terminal_snr(betas: torch.Tensor) -> torch.Tensor:
    """Shift √ᾱ so the last is 0, rescale so the first is unchanged, and recover β from the ratios."""
    sqrt_ab = torch.cumprod(1.0 - betas, dim=0).sqrt()
    first, last = sqrt_ab[0].clone(), sqrt_ab[-1].clone()
    sqrt_ab = (sqrt_ab - last) * (first / (first - last))
    alphas_bar = sqrt_ab**2
    alphas = torch.cat([alphas_bar[0:1], alphas_bar[1:] / alphas_bar[:-1]])
    return 1 - alphas


def alphas_cumprod(schedule: str, steps: int = 1000, *, zero_terminal_snr: bool = False,
                   dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(steps,) table ᾱ_t of a named schedule (``linear``, ``squaredcos_cap_v2``, ``shifted_cosine:0.5``…).

    float32 as the reference; ``dtype=torch.float64`` gives the same arithmetic in double precision.
    """
    if schedule.startswith(SHIFTED_COSINE_PREFIX):
        shift_text = schedule.removeprefix(SHIFTED_COSINE_PREFIX)
        try:
            shift = float(shift_text)
        except ValueError:
            raise ValueError(f"beta schedule {schedule!r}: expected a number after "
                             f"{SHIFTED_COSINE_PREFIX!r}, found {shift_text!r}") from None
        return _shifted_cosine_alphas_cumprod(shift, steps, dtype)
    betas = _betas(schedule, steps, dtype)
    if zero_terminal_snr:
        betas = _rescale_zero_terminal_snr(betas)
    return torch.cumprod(1.0 - betas, dim=0)
