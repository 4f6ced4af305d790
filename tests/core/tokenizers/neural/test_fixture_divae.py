"""Reference fixtures, DiVAE: tokens, UNet outputs, noise schedules, timestep tables, DDIM / DDPM decodes (§5, §8).

UNet outputs and the 4-step DDIM / DDPM decodes are compared at 1e-5 (they are in fact bitwise equal) on values
recomputed in a subprocess that pins the fixtures' CPU kernels (``divae_recomputed`` in conftest.py): the
reference ran oneDNN's AVX2 convolutions, and on an AVX-512 CPU oneDNN's AVX-512 kernels move the UNet output by
up to 1.6e-5 — as much as the reference's own float32 rounding (1.8e-5 from a float64 evaluation).
The in-process checks below run on whatever kernels this CPU picks, so their UNet-derived values keep a
kernel-rounding margin (2e-5 per call; 1e-3 for a chained decode, which amplifies the rounding step after step).
Scheduler steps fed the reference's own model outputs are exact everywhere.
"""

from __future__ import annotations

import pytest
import torch

from mm4m.core.tokenizers.neural import DDIMScheduler, DDPMScheduler, DiVAE, SchedulerConfig, load_model
from mm4m.core.tokenizers.neural.noise_schedules import alphas_cumprod

UNET_TOL = {"atol": 1e-5, "rtol": 0.0}  # UNet outputs, kernels pinned as the fixtures' (subprocess)
CHAIN_TOL = {"atol": 1e-5, "rtol": 0.0}  # full 4-step decodes, kernels pinned as the fixtures' (subprocess)
IN_PROCESS_UNET_TOL = {"atol": 2e-5, "rtol": 1e-5}  # this CPU's own kernels
IN_PROCESS_CHAIN_TOL = {"atol": 1e-3, "rtol": 0.0}
P = "divae_tiny"


@pytest.fixture(scope="module")
def divae(checkpoints) -> DiVAE:
    model = load_model(checkpoints[P])
    assert isinstance(model, DiVAE)
    return model


def test_encoder_tokens_and_quantized_latents_match(divae, tok_io):
    with torch.no_grad():
        latents = divae.latents(tok_io[f"{P}.in16"])
        quant, _, tokens = divae.quantize(latents)
    assert torch.equal(tokens, tok_io[f"{P}.in16.tokens"])
    torch.testing.assert_close(latents, tok_io[f"{P}.in16.latent"], atol=1e-5, rtol=0.0)
    torch.testing.assert_close(quant, tok_io[f"{P}.in16.quant"], atol=0.0, rtol=0.0)


def test_unet_outputs_match_in_process_for_vector_scalar_and_masked_conditioning(divae, tok_io):
    x_t, quant = tok_io[f"{P}.unet.x_t"], tok_io[f"{P}.in16.quant"]
    with torch.no_grad():
        per_sample = divae.decoder(x_t, tok_io[f"{P}.unet.t"], quant)
        scalar = divae.decoder(x_t, torch.tensor(500), quant)
        masked = divae.decoder(x_t, torch.tensor(500), quant, tok_io[f"{P}.unet.cond_mask"])
    torch.testing.assert_close(per_sample, tok_io[f"{P}.unet.out_tvec"], **IN_PROCESS_UNET_TOL)
    torch.testing.assert_close(scalar, tok_io[f"{P}.unet.out_t500"], **IN_PROCESS_UNET_TOL)
    torch.testing.assert_close(masked, tok_io[f"{P}.unet.out_t500_masked"], **IN_PROCESS_UNET_TOL)


@pytest.mark.parametrize(("key", "schedule", "ztsnr", "atol"), [
    (f"{P}.sched.alphas_cumprod_linear_ztsnr", "linear", True, 0.0),
    ("sched.alphas_cumprod.linear_no_ztsnr", "linear", False, 0.0),
    ("sched.alphas_cumprod.squaredcos_cap_v2", "squaredcos_cap_v2", True, 0.0),
    ("sched.alphas_cumprod.shifted_cosine:0.5", "shifted_cosine:0.5", True, 2e-7),  # 1-ulp transcendental noise
])
def test_alphas_cumprod_tables_match(key, schedule, ztsnr, atol, tok_io):
    table = alphas_cumprod(schedule, 1000, zero_terminal_snr=ztsnr)
    torch.testing.assert_close(table, tok_io[key], atol=atol, rtol=0.0)


def test_timestep_tables_match_for_every_spacing(manifest):
    config = SchedulerConfig(beta_schedule="linear", prediction_type="sample")
    for name, expected in manifest["models"][P]["timesteps"].items():
        kind, *rest = name.split("_")
        n = int(rest[-1])
        if kind == "ddpm":
            scheduler = DDPMScheduler(config)
            scheduler.set_timesteps(n)
        else:
            scheduler = DDIMScheduler(config)
            scheduler.set_timesteps(n, mode=rest[0])
        assert scheduler.timesteps.tolist() == expected, name


def test_ddim_steps_match_given_the_reference_model_outputs(divae, tok_io):
    scheduler = DDIMScheduler(divae.scheduler_config)
    scheduler.set_timesteps(4, mode="trailing")
    assert torch.equal(scheduler.timesteps, tok_io[f"{P}.ddim4.timesteps"])
    x = tok_io[f"{P}.ddim4.x_T"]
    quant = tok_io[f"{P}.in16.quant"]
    for i, t in enumerate(scheduler.timesteps):
        model_out = tok_io[f"{P}.ddim4.model_out_per_step"][i]
        with torch.no_grad():
            torch.testing.assert_close(divae.decoder(x, t, quant), model_out, **IN_PROCESS_UNET_TOL)
        step = scheduler.step(model_out, t, x)
        torch.testing.assert_close(step.pred_original_sample, tok_io[f"{P}.ddim4.pred_x0_per_step"][i],
                                   atol=0.0, rtol=0.0)
        torch.testing.assert_close(step.prev_sample, tok_io[f"{P}.ddim4.sample_per_step"][i], atol=0.0, rtol=0.0)
        x = tok_io[f"{P}.ddim4.sample_per_step"][i]


def test_ddpm_steps_match_given_the_stored_noise(divae, tok_io):
    scheduler = DDPMScheduler(divae.scheduler_config)
    scheduler.set_timesteps(4)
    assert torch.equal(scheduler.timesteps, tok_io[f"{P}.ddpm4.timesteps"])
    x = tok_io[f"{P}.ddpm4.x_T"]
    quant = tok_io[f"{P}.in16.quant"]
    for i, t in enumerate(scheduler.timesteps):
        with torch.no_grad():
            model_out = divae.decoder(x, t, quant)
        noise = tok_io[f"{P}.ddpm4.variance_noise_per_step"][i] if t > 0 else None
        step = scheduler.step(model_out, t, x, noise=noise)
        torch.testing.assert_close(step.prev_sample, tok_io[f"{P}.ddpm4.sample_per_step"][i], **IN_PROCESS_UNET_TOL)
        x = tok_io[f"{P}.ddpm4.sample_per_step"][i]


def test_ddim_decode_replays_the_reference_generator(divae, tok_io):
    steps = []
    with torch.no_grad():
        decoded = divae.decode_tokens(tok_io[f"{P}.in16.tokens"], timesteps=4,
                                      scheduler=DDIMScheduler(divae.scheduler_config),
                                      generator=torch.Generator().manual_seed(1234), image_size=16,
                                      scheduler_timesteps_mode="trailing", on_step=steps.append)
    assert [s.timestep for s in steps] == tok_io[f"{P}.ddim4.timesteps"].tolist()
    torch.testing.assert_close(decoded, tok_io[f"{P}.ddim4.decoded"], **IN_PROCESS_CHAIN_TOL)


def test_ddpm_decode_replays_the_reference_generator_and_accepts_injected_noise(divae, tok_io):
    tokens = tok_io[f"{P}.in16.tokens"]
    with torch.no_grad():
        replayed = divae.decode_tokens(tokens, timesteps=4, generator=torch.Generator().manual_seed(4321),
                                       image_size=16)
        injected = divae.decode_tokens(tokens, timesteps=4, image_size=16, x_T=tok_io[f"{P}.ddpm4.x_T"],
                                       step_noise=list(tok_io[f"{P}.ddpm4.variance_noise_per_step"][:3]))
    torch.testing.assert_close(replayed, tok_io[f"{P}.ddpm4.decoded"], **IN_PROCESS_CHAIN_TOL)
    torch.testing.assert_close(injected, replayed, atol=0.0, rtol=0.0)
    assert replayed.abs().max() <= 1.0  # x̂0 is clamped at every step and the last step returns it


@pytest.mark.parametrize("key", ["unet.out_tvec", "unet.out_t500", "unet.out_t500_masked",
                                 "ddim4.model_out_per_step"])
def test_unet_outputs_match_with_the_fixture_kernels(key, divae_recomputed, tok_io):
    """Vector / scalar timesteps, masked conditioning, and each DDIM step on the reference's trajectory."""
    torch.testing.assert_close(divae_recomputed[f"{P}.{key}"], tok_io[f"{P}.{key}"], **UNET_TOL)


@pytest.mark.parametrize("key", ["ddim4.pred_x0_per_step", "ddim4.sample_per_step", "ddim4.decoded",
                                 "ddpm4.sample_per_step", "ddpm4.decoded"])
def test_decodes_match_with_the_fixture_kernels(key, divae_recomputed, tok_io):
    """4-step DDIM (trailing) and DDPM decodes replaying the reference generator, every step and the result."""
    torch.testing.assert_close(divae_recomputed[f"{P}.{key}"], tok_io[f"{P}.{key}"], **CHAIN_TOL)


def test_ddpm_decode_from_the_stored_noise_matches_with_the_fixture_kernels(divae_recomputed, tok_io):
    torch.testing.assert_close(divae_recomputed[f"{P}.ddpm4.decoded_injected"], tok_io[f"{P}.ddpm4.decoded"],
                               **CHAIN_TOL)
