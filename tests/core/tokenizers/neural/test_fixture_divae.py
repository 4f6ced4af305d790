"""Reference fixtures, DiVAE: tokens, UNet outputs, noise schedules, timestep tables, DDIM / DDPM decodes (§5, §8).

Float tensors follow docs/numerics.md: ours and the reference's lie within the float32 bound of a float64
recomputation from the same weights and inputs. A scheduler step is checked given the reference's previous
state (teacher-forced, one step's bound); the free-running 4-step decodes against a float64 chain from the
stored x_T and step noises, with a bound that grows with the steps by each step's measured amplification.
"""

from __future__ import annotations

import pytest
import torch

from mm4m.core.tokenizers.neural import DDIMScheduler, DDPMScheduler, DiVAE, SchedulerConfig, load_model
from mm4m.core.tokenizers.neural.noise_schedules import alphas_cumprod
from mm4m.testing.numerics import (amplification, assert_within_float32_bound, chain_bounds, in_float64, rounding_bound,
                                   to_float64, traced_reduction_length)

P = "divae_tiny"
STEP_ROUNDINGS = 16
"""Roundings in one scheduler step: the ᾱ powers and complements, the ε̂ recovery and the update (about a dozen),
rounded up; each is relative to at most the sum of the magnitudes of the step's terms (`step_bound`)."""
DRAW_ROUNDINGS, DRAW_RADIUS = 16, 5.8
"""A Box–Muller normal r·cos θ: the log, sqrt, the angle's products, a cosine good to ~4 ulp and the product, all
relative to the radius r = √(−2 ln u₁), below 5.8 for a float32 u₁ ≥ 2⁻²⁴. CPUs differ here: vectorised and
scalar kernels evaluate the transcendentals differently."""


@pytest.fixture(scope="module")
def divae(checkpoints) -> DiVAE:
    model = load_model(checkpoints[P])
    assert isinstance(model, DiVAE)
    return model


@pytest.fixture(scope="module")
def unet64(divae):
    return to_float64(divae.decoder)


def unet_bound(divae, truth: torch.Tensor, *args) -> torch.Tensor:
    """The UNet's roundings (every layer, group norm and attention of this call), relative to each sample's max |output|."""
    return rounding_bound(traced_reduction_length(divae.decoder, *args), truth.abs().amax(dim=(1, 2, 3), keepdim=True))


def scheduler64(scheduler, table: torch.Tensor):
    """``scheduler`` computing in float64 from the float32 ᾱ table ``table`` (ours, or the reference's)."""
    twin = type(scheduler)(scheduler.config)
    twin.set_timesteps(scheduler.num_inference_steps, **({"mode": "trailing"} if isinstance(twin, DDIMScheduler) else {}))
    twin.alphas_cumprod, twin.one = table.double(), torch.tensor(1.0, dtype=torch.float64)
    return twin


def step_bound(x: torch.Tensor, x0: torch.Tensor, prev: torch.Tensor, noise_term: torch.Tensor | float = 0.0):
    """A step's own roundings: ε̂ divides by √(1−ᾱ_t) and is scaled back by √(1−ᾱ_prev) ≤ it, so no term exceeds
    |x_t| + 2|x̂0| + |x_prev| + |σ·z| (elementwise)."""
    scale = x.abs() + 2 * x0.abs() + prev.abs() + torch.as_tensor(noise_term).abs()
    return rounding_bound(STEP_ROUNDINGS, scale.double())


def test_encoder_tokens_and_quantized_latents_match(divae, tok_io, bounds):
    x = tok_io[f"{P}.in16"]
    with torch.no_grad():
        latents = divae.latents(x)
        quant, _, tokens = divae.quantize(latents)
    encoder = torch.nn.Sequential(divae.encoder, divae.quant_proj)
    truth, bound = bounds.network_truth_and_bound(encoder, divae.prepare_input(x))
    assert_within_float32_bound("latents", latents, tok_io[f"{P}.in16.latent"], truth, bound)
    bounds.assert_codes_match("tokens", divae.quantize, truth, bound, tokens, tok_io[f"{P}.in16.tokens"])
    # The quantized latents are the raw codebook rows of those ids: a copy, so exact.
    assert torch.equal(quant, tok_io[f"{P}.in16.quant"])


@pytest.mark.parametrize(("key", "timestep", "masked"), [("out_tvec", None, False), ("out_t500", 500, False),
                                                          ("out_t500_masked", 500, True)])
def test_unet_outputs_match_for_vector_scalar_and_masked_conditioning(key, timestep, masked, divae, unet64, tok_io):
    t = tok_io[f"{P}.unet.t"] if timestep is None else torch.tensor(timestep)
    args = (tok_io[f"{P}.unet.x_t"], t, tok_io[f"{P}.in16.quant"]) + ((tok_io[f"{P}.unet.cond_mask"],) if masked else ())
    with torch.no_grad():
        ours = divae.decoder(*args)
    truth = in_float64(unet64, *args)
    assert_within_float32_bound(key, ours, tok_io[f"{P}.unet.{key}"], truth, unet_bound(divae, truth, *args))


def zero_snr_shift(table64: torch.Tensor) -> torch.Tensor:
    """The zero-terminal-SNR rescale subtracts the last √ᾱ from every √ᾱ: an absolute error of a few roundings of
    √ᾱ_0 ≈ 1 in √ᾱ_t, which squaring turns into 2·√ᾱ_t times that in ᾱ_t."""
    return rounding_bound(8, 2 * table64.sqrt())


def shifted_cosine_bound(table64: torch.Tensor, shift: float) -> torch.Tensor:
    """ᾱ = sigmoid(λ), λ = −2(ln tan(πt/2) + ln s): dᾱ = ᾱ(1−ᾱ)·dλ. The rounding of x = πt/2 moves λ by
    4·u·x/sin 2x, the transcendentals' own roundings by a few u·(2 + |λ|); clamped λ (±15) does not move."""
    steps = table64.numel()
    x = torch.linspace(0, 1, steps, dtype=torch.float64) * torch.pi / 2
    log_snr = -2 * (torch.log(torch.tan(x)) + torch.log(torch.tensor(shift, dtype=torch.float64)))
    sensitivity = (4 * x / torch.sin(2 * x)).nan_to_num(4.0) + 2 + log_snr.abs()
    moving = (log_snr.abs() < 15).double()
    return rounding_bound(8, table64 * (1 - table64) * sensitivity * moving) + rounding_bound(2, table64)


@pytest.mark.parametrize(("key", "schedule", "ztsnr"), [
    (f"{P}.sched.alphas_cumprod_linear_ztsnr", "linear", True),
    ("sched.alphas_cumprod.linear_no_ztsnr", "linear", False),
    ("sched.alphas_cumprod.squaredcos_cap_v2", "squaredcos_cap_v2", True),
    ("sched.alphas_cumprod.shifted_cosine:0.5", "shifted_cosine:0.5", True),
])
def test_alphas_cumprod_tables_match(key, schedule, ztsnr, tok_io):
    table = alphas_cumprod(schedule, 1000, zero_terminal_snr=ztsnr)
    truth = alphas_cumprod(schedule, 1000, zero_terminal_snr=ztsnr, dtype=torch.float64)
    if schedule.startswith("shifted_cosine"):
        bound = shifted_cosine_bound(truth, float(schedule.split(":")[1]))
    else:
        # ᾱ_k is a product of k+1 factors 1 − β, each with ≤ 3 roundings (β, the complement, the product) —
        # 6 with the rescale's ratios — all relative to ᾱ_k.
        per_factor = 6 if ztsnr else 3
        bound = rounding_bound(per_factor * torch.arange(1, 1001, dtype=torch.float64), truth)
        if ztsnr:
            bound = bound + zero_snr_shift(truth)
    assert_within_float32_bound(key, table, tok_io[key], truth, bound)


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


def test_ddim_steps_match_given_the_reference_model_outputs(divae, unet64, tok_io):
    """Teacher-forced: each step from the reference's state and model output; the model output itself too."""
    scheduler = DDIMScheduler(divae.scheduler_config)
    scheduler.set_timesteps(4, mode="trailing")
    assert torch.equal(scheduler.timesteps, tok_io[f"{P}.ddim4.timesteps"])
    ours64 = scheduler64(scheduler, scheduler.alphas_cumprod)
    ref64 = scheduler64(scheduler, tok_io[f"{P}.sched.alphas_cumprod_linear_ztsnr"])
    x, quant = tok_io[f"{P}.ddim4.x_T"], tok_io[f"{P}.in16.quant"]
    for i, t in enumerate(scheduler.timesteps):
        model_out = tok_io[f"{P}.ddim4.model_out_per_step"][i]
        with torch.no_grad():
            ours_out = divae.decoder(x, t, quant)
        truth_out = in_float64(unet64, x, t, quant)
        assert_within_float32_bound(f"model_out[{i}]", ours_out, model_out, truth_out,
                                    unet_bound(divae, truth_out, x, t, quant))
        step = scheduler.step(model_out, t, x)
        # x̂0 is the given model output, clamped: exact.
        assert torch.equal(step.pred_original_sample, tok_io[f"{P}.ddim4.pred_x0_per_step"][i])
        ours_truth = ours64.step(model_out.double(), t, x.double()).prev_sample
        ref_truth = ref64.step(model_out.double(), t, x.double()).prev_sample
        bound = step_bound(x, model_out, ours_truth)
        assert_within_float32_bound(f"sample[{i}] (ours)", step.prev_sample, None, ours_truth, bound)
        assert_within_float32_bound(f"sample[{i}] (reference)", tok_io[f"{P}.ddim4.sample_per_step"][i], None,
                                    ref_truth, bound)
        x = tok_io[f"{P}.ddim4.sample_per_step"][i]


def test_ddpm_steps_match_given_the_stored_noise(divae, unet64, tok_io):
    """Teacher-forced, our model output: the step's bound plus the model's bound, carried by the step."""
    scheduler = DDPMScheduler(divae.scheduler_config)
    scheduler.set_timesteps(4)
    assert torch.equal(scheduler.timesteps, tok_io[f"{P}.ddpm4.timesteps"])
    ours64 = scheduler64(scheduler, scheduler.alphas_cumprod)
    ref64 = scheduler64(scheduler, tok_io[f"{P}.sched.alphas_cumprod_linear_ztsnr"])
    x, quant = tok_io[f"{P}.ddpm4.x_T"], tok_io[f"{P}.in16.quant"]
    for i, t in enumerate(scheduler.timesteps):
        noise = tok_io[f"{P}.ddpm4.variance_noise_per_step"][i] if t > 0 else None
        noise64 = None if noise is None else noise.double()
        with torch.no_grad():
            step = scheduler.step(divae.decoder(x, t, quant), t, x, noise=noise)
        truth_out = in_float64(unet64, x, t, quant)
        model_error = unet_bound(divae, truth_out, x, t, quant).max().item()
        for name, twin, sample in (("ours", ours64, step.prev_sample),
                                   ("reference", ref64, tok_io[f"{P}.ddpm4.sample_per_step"][i])):
            truth = twin.step(truth_out, t, x.double(), noise=noise64)
            carried = amplification(lambda m: twin.step(m, t, x.double(), noise=noise64).prev_sample,  # noqa: B023
                                    truth_out, model_error) * model_error
            bound = step_bound(x, truth.pred_original_sample, truth.prev_sample, 0.0 if noise is None else noise) + carried
            assert_within_float32_bound(f"sample[{i}] ({name})", sample, None, truth.prev_sample, bound)
        x = tok_io[f"{P}.ddpm4.sample_per_step"][i]


def draws(seed: int, shape: tuple[int, ...], count: int) -> list[torch.Tensor]:
    """The normals a decode draws from a generator seeded ``seed``: x_T, then one per noisy step."""
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=generator) for _ in range(count)]


@pytest.mark.parametrize(("kind", "seed", "count"), [("ddim4", 1234, 1), ("ddpm4", 4321, 4)])
def test_the_generator_replays_the_reference_draws(kind, seed, count, tok_io):
    stored = [tok_io[f"{P}.{kind}.x_T"], *tok_io[f"{P}.{kind}.variance_noise_per_step"][:3]][:count] \
        if kind == "ddpm4" else [tok_io[f"{P}.{kind}.x_T"]]
    for i, (ours, ref) in enumerate(zip(draws(seed, tuple(stored[0].shape), count), stored)):
        assert_within_float32_bound(f"{kind} draw {i}", ours, None, ref.double(),
                                    rounding_bound(2 * DRAW_ROUNDINGS, DRAW_RADIUS))


def run_chain(divae, unet64, scheduler, table, quant, x_T, noises):
    """Float64 decode from ``x_T`` with the given step noises: states, x̂0s, and the free-running bounds.

    Step k's own error is its step bound plus the model's bound carried through the step; earlier errors grow
    by step k's measured amplification of a perturbation of its input state (`chain_bounds`).
    """
    twin = scheduler64(scheduler, table)
    quant64, x = quant.double(), x_T.double()
    states, x0s, own, growth = [], [], [], []
    for i, t in enumerate(scheduler.timesteps):
        noise = noises[i].double() if noises is not None and t > 0 else None

        def full_step(state, t=t, noise=noise):
            return twin.step(in_float64(unet64, state, t, quant64), t, state, noise=noise).prev_sample

        out = in_float64(unet64, x, t, quant64)
        step = twin.step(out, t, x, noise=noise)
        model_error = unet_bound(divae, out, x.float(), t, quant).max().item()
        carried = amplification(lambda m: twin.step(m, t, x, noise=noise).prev_sample, out,  # noqa: B023
                                model_error) * model_error
        bound = step_bound(x, step.pred_original_sample, step.prev_sample, 0.0 if noise is None else noise)
        own.append(float(bound.max()) + carried)
        growth.append(amplification(full_step, x, own[-1]))
        states.append(step.prev_sample)
        x0s.append(step.pred_original_sample)
        x = step.prev_sample
    return states, x0s, chain_bounds(own, growth)


@pytest.mark.parametrize("kind", ["ddim4", "ddpm4"])
def test_free_running_decodes_stay_within_the_growing_chain_bound(kind, divae, unet64, tok_io):
    """Our 4-step decode from the stored x_T (and step noises), and the reference's, against the float64 chain."""
    scheduler = (DDIMScheduler if kind == "ddim4" else DDPMScheduler)(divae.scheduler_config)
    noises = None if kind == "ddim4" else list(tok_io[f"{P}.ddpm4.variance_noise_per_step"][:3])
    tokens, x_T = tok_io[f"{P}.in16.tokens"], tok_io[f"{P}.{kind}.x_T"]
    steps = []
    with torch.no_grad():
        decoded = divae.decode_tokens(tokens, timesteps=4, scheduler=scheduler, image_size=16, x_T=x_T,
                                      step_noise=noises, on_step=steps.append)
    quant = divae.tokens_to_embedding(tokens)
    noise_per_step = None if noises is None else [*noises, None]
    states, x0s, bounds = run_chain(divae, unet64, scheduler, scheduler.alphas_cumprod, quant, x_T, noise_per_step)
    ref_states, _, ref_bounds = run_chain(divae, unet64, scheduler, tok_io[f"{P}.sched.alphas_cumprod_linear_ztsnr"],
                                          quant, x_T, noise_per_step)
    for i, step in enumerate(steps):
        assert_within_float32_bound(f"{kind} sample[{i}] (ours)", step.sample, None, states[i], bounds[i])
        assert_within_float32_bound(f"{kind} sample[{i}] (reference)", tok_io[f"{P}.{kind}.sample_per_step"][i],
                                    None, ref_states[i], ref_bounds[i])
    assert_within_float32_bound(f"{kind} decoded (ours)", decoded, None, states[-1], bounds[-1])
    assert_within_float32_bound(f"{kind} decoded (reference)", tok_io[f"{P}.{kind}.decoded"], None, ref_states[-1],
                                ref_bounds[-1])
    assert decoded.abs().max() <= 1.0  # x̂0 is clamped at every step and the last step returns it


@pytest.mark.parametrize(("kind", "seed"), [("ddim4", 1234), ("ddpm4", 4321)])
def test_a_generator_decode_is_the_decode_of_its_draws(kind, seed, divae, tok_io):
    """Same process, same draws: passing the generator or the draws it makes gives bit-identical decodes."""
    scheduler = DDIMScheduler if kind == "ddim4" else DDPMScheduler
    tokens = tok_io[f"{P}.in16.tokens"]
    drawn = draws(seed, tuple(tok_io[f"{P}.{kind}.x_T"].shape), 1 if kind == "ddim4" else 4)
    with torch.no_grad():
        replayed = divae.decode_tokens(tokens, timesteps=4, scheduler=scheduler(divae.scheduler_config),
                                       generator=torch.Generator().manual_seed(seed), image_size=16)
        injected = divae.decode_tokens(tokens, timesteps=4, scheduler=scheduler(divae.scheduler_config),
                                       image_size=16, x_T=drawn[0], step_noise=drawn[1:] if kind == "ddpm4" else None)
    assert torch.equal(injected, replayed)
