"""Invariants of chained generation on a tiny random model: commits are final, grids fill exactly once,
seeds reproduce, the key/value cache changes nothing, guidance variants agree."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mm4m.core.generation.autoregressive import decode_sequence
from mm4m.core.generation.plan import GenerationPlan
from mm4m.core.generation.sample_dict import empty_target, full_input, prompted_target
from mm4m.core.generation.sampler import GenerationSampler
from mm4m.core.generation.schedule import ScheduleStep
from mm4m.core.generation.span_merge import spans_of
from mm4m.core.special_tokens import sentinel_id

MODEL_EXAMPLES = settings(max_examples=6, deadline=None)
"""Each example runs a model several times: a few examples cover the invariants."""


def chain_sample(model, seed, batch=2, caption_tokens=6):
    g = torch.Generator().manual_seed(seed)
    rgb = model.specs["tok_rgb@224"]
    sample = {"tok_rgb@224": full_input(rgb, torch.randint(0, rgb.vocab_size, (batch, 196), generator=g))}
    for key in ("tok_dinov2_global", "tok_depth@224"):
        sample[key] = empty_target(model.specs[key], batch)
    sample["caption"] = empty_target(model.specs["caption"], batch, num_tokens=caption_tokens)
    return sample


def chain_schedule(model, *, steps, temperature, scheme, guidance=1.0):
    plan = GenerationPlan.parse({"conditions": ["tok_rgb@224"], "targets": [
        {"domain": "tok_dinov2_global", "scheme": scheme, "steps": min(steps, 16), "temperature": temperature,
         "guidance": guidance},
        {"domain": "tok_depth@224", "scheme": scheme, "steps": steps, "temperature": temperature,
         "temperature_schedule": "linear", "guidance": guidance},
        {"domain": "caption", "temperature": temperature, "guidance": guidance}]})
    return plan.schedule(lambda key: model.specs[key])


chains = st.fixed_dictionaries({"seed": st.integers(0, 2**16), "steps": st.integers(1, 6),
                                "temperature": st.sampled_from([0.0, 0.7, 3.0]),
                                "scheme": st.sampled_from(["maskgit", "roar"]),
                                "guidance": st.sampled_from([1.0, 2.5])})


@given(chain=chains)
@MODEL_EXAMPLES
def test_committed_tokens_never_change_later_in_a_chain(tiny_model, chain):
    schedule = chain_schedule(tiny_model, steps=chain["steps"], temperature=chain["temperature"],
                              scheme=chain["scheme"], guidance=chain["guidance"])
    before = chain_sample(tiny_model, chain["seed"])
    for state in GenerationSampler(tiny_model).generate_iter(before, schedule, top_p=0.9, seed=chain["seed"]):
        for key, entry in before.items():
            kept = ~entry["input_mask"]
            if entry["input_mask"].shape == state[key]["input_mask"].shape:
                assert not state[key]["input_mask"][kept].any()
                assert torch.equal(state[key]["tensor"].flatten(1)[kept], entry["tensor"].flatten(1)[kept])
        before = state
    assert not before["tok_depth@224"]["input_mask"].any() and not before["tok_dinov2_global"]["input_mask"].any()


@given(chain=chains)
@MODEL_EXAMPLES
def test_a_grid_schedule_fills_every_position_exactly_once(tiny_model, chain):
    schedule = chain_schedule(tiny_model, steps=chain["steps"], temperature=chain["temperature"],
                              scheme=chain["scheme"])[:-1]
    before = chain_sample(tiny_model, chain["seed"])
    filled = {key: torch.zeros(2, tiny_model.specs[key].max_tokens, dtype=torch.long)
              for key in ("tok_dinov2_global", "tok_depth@224")}
    for step, state in zip(schedule, GenerationSampler(tiny_model).generate_iter(before, schedule, seed=1)):
        key = step.target_domain
        new = before[key]["input_mask"] & ~state[key]["input_mask"]
        assert (new.sum(dim=1) == step.num_tokens).all()
        filled[key] += new.long()
        before = state
    for counts in filled.values():
        assert (counts == 1).all()


@given(chain=chains)
@MODEL_EXAMPLES
def test_a_seed_reproduces_the_output_and_the_cache_changes_nothing(tiny_model, chain):
    chain["temperature"] = chain["temperature"] or 1.0
    schedule = chain_schedule(tiny_model, steps=chain["steps"], temperature=chain["temperature"],
                              scheme=chain["scheme"], guidance=chain["guidance"])
    sample = chain_sample(tiny_model, chain["seed"])
    runs = [GenerationSampler(tiny_model, use_kv_cache=cache).generate(sample, schedule, top_k=0.5,
                                                                       seed=chain["seed"])
            for cache in (True, True, False)]
    for run in runs[1:]:
        for key in sample:
            assert torch.equal(run[key]["tensor"], runs[0][key]["tensor"])
            assert torch.equal(run[key]["input_mask"], runs[0][key]["input_mask"])


def test_single_weight_multi_condition_guidance_equals_scalar_guidance(tiny_model):
    sample = chain_sample(tiny_model, 3)
    step = ScheduleStep(target_domain="tok_depth@224", scheme="maskgit", num_tokens=196, temperature=0.0,
                        cfg_scale=2.5, cfg_cond_domains=("tok_rgb@224",))
    scalar = GenerationSampler(tiny_model).generate(sample, [step])
    weighted = GenerationSampler(tiny_model).generate(sample, [step.model_copy(update={"cfg_scale": (2.5,)})])
    assert torch.equal(scalar["tok_depth@224"]["tensor"], weighted["tok_depth@224"]["tensor"])


def test_multi_condition_guidance_conditions_on_each_modality_alone(tiny_model):
    sample = chain_sample(tiny_model, 4)
    sample["caption"] = full_input(tiny_model.specs["caption"], torch.tensor([[300, 301, 3, 0]] * 2))
    step = ScheduleStep(target_domain="tok_dinov2_global", scheme="roar", num_tokens=16, temperature=0.0,
                        cfg_scale=(1.5, 0.5), cfg_cond_domains=("tok_rgb@224", "caption"))
    out = GenerationSampler(tiny_model).generate(sample, [step], seed=0)
    assert not out["tok_dinov2_global"]["input_mask"].any()
    with pytest.raises(ValueError, match=r"needs one weight per condition \['tok_rgb@224', 'caption'\], found 1"):
        GenerationSampler(tiny_model).generate(sample, [step.model_copy(update={"cfg_scale": (1.5,)})])


@pytest.mark.parametrize("step, error, message", [
    (ScheduleStep(target_domain="det", scheme="autoregressive", num_tokens=None, temperature=0.0),
     KeyError, "the sample has no entry for the target"),
    (ScheduleStep(target_domain="tok_rgb@224", scheme="maskgit", num_tokens=4, temperature=0.0),
     ValueError, "the model cannot generate it"),
    (ScheduleStep(target_domain="caption", scheme="roar", num_tokens=4, temperature=0.0),
     ValueError, "expected scheme autoregressive for this modality, found roar"),
    (ScheduleStep(target_domain="caption", scheme="autoregressive", num_tokens=None, temperature=0.0, cfg_scale=2.0,
                  cfg_cond_domains=("tok_clip@224",)), KeyError, r"guidance conditions \['tok_clip@224'\]"),
])
def test_invalid_steps_are_named(tiny_model, step, error, message):
    """Each problem names the step, the target and what was expected."""
    with pytest.raises(error, match=r"schedule step 0 \(.*\): " + message):
        GenerationSampler(tiny_model).generate(chain_sample(tiny_model, 0), [step])


@given(seed=st.integers(0, 2**16), temperature=st.sampled_from([0.0, 1.0]))
@MODEL_EXAMPLES
def test_a_custom_text_prompt_is_kept_and_its_sentinel_filled(tiny_model, seed, temperature):
    prompt = torch.tensor([[4321, 5050, 4937, sentinel_id(1), 4232]])
    sample = chain_sample(tiny_model, seed, batch=1)
    sample["caption"] = prompted_target(prompt, 6)
    step = ScheduleStep(target_domain="caption", scheme="autoregressive", num_tokens=None, temperature=temperature)
    prediction = decode_sequence(tiny_model, sample, step, top_k=0, top_p=0.0,
                                 generator=torch.Generator().manual_seed(seed))
    assert prediction[0, 0] == sentinel_id(1) and 1 < prediction.shape[1] <= 7
    out = GenerationSampler(tiny_model).generate(sample, [step], seed=seed)
    merged = out["caption"]["tensor"][0].tolist()
    assert merged == [4321, 5050, 4937, *spans_of(prediction[0].tolist()).get(sentinel_id(1), []), 4232]
    assert not out["caption"]["input_mask"].any() and out["caption"]["target_mask"].all()


def test_a_step_on_a_complete_target_is_an_error(tiny_model):
    step = ScheduleStep(target_domain="tok_dinov2_global", scheme="roar", num_tokens=16, temperature=0.0)
    with pytest.raises(ValueError, match="target 'tok_dinov2_global': no position is left to generate"):
        GenerationSampler(tiny_model).generate(chain_sample(tiny_model, 0), [step, step])
