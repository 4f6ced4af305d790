"""Generation against the reference goldens G1–G6 (spec §8.1–8.2)."""

from __future__ import annotations

import pytest
import torch

from mm4m.core.generation.decoder_runner import DecoderRunner
from mm4m.core.generation.model_passes import encode, grid_logits
from mm4m.core.generation.sample_dict import empty_target, full_input
from mm4m.core.generation.sampler import GenerationSampler
from mm4m.core.generation.schedule import ScheduleStep
from mm4m.testing.numerics import (assert_discrete_match, assert_within_float32_bound, in_float64, reduction_length,
                                   rounding_bound, top2_margin)

PLACEHOLDER_TOKENS = {"caption": 12, "det": 10}
"""Sequence placeholders the goldens used (G4: 12-token caption, G6: 10-token det)."""


def golden_sample(model, rgb, targets):
    sample = {"rgb@224": full_input(model.specs["rgb@224"], rgb)}
    for key in targets:
        sample[key] = empty_target(model.specs[key], 1, num_tokens=PLACEHOLDER_TOKENS.get(key))
    return sample


def golden_schedule(manifest, name):
    return [ScheduleStep(**step) for step in manifest["generation"][name]["schedule"]]


@pytest.fixture(params=[True, False], ids=["kv_cache", "recomputed"])
def sampler(request, golden_model):
    return GenerationSampler(golden_model, use_kv_cache=request.param)


@pytest.mark.parametrize("name", ["G1_maskgit1_depth", "G5_cfg3_maskgit1_depth"])
def test_one_step_maskgit_matches_token_for_token(golden_model, golden_rgb, golden_generation, manifest, name):
    out = GenerationSampler(golden_model).generate(golden_sample(golden_model, golden_rgb, ["tok_depth@224"]),
                                                   golden_schedule(manifest, name))
    assert torch.equal(out["tok_depth@224"]["tensor"], golden_generation[f"gen.{name}.tokens"])
    assert not out["tok_depth@224"]["input_mask"].any() and out["tok_depth@224"]["target_mask"].all()


def test_chain_depth_then_caption_matches(sampler, golden_model, golden_rgb, golden_generation, manifest):
    sample = golden_sample(golden_model, golden_rgb, ["tok_depth@224", "caption"])
    out = sampler.generate(sample, golden_schedule(manifest, "G4_chain"))
    assert torch.equal(out["tok_depth@224"]["tensor"], golden_generation["gen.G4_chain.depth_tokens"])
    assert torch.equal(out["caption"]["tensor"], golden_generation["gen.G4_chain.caption_tokens"])
    assert torch.equal(out["caption"]["input_mask"], golden_generation["gen.G4_chain.caption_input_mask"])


def test_guided_greedy_detection_matches(sampler, golden_model, golden_rgb, golden_generation, manifest):
    sample = golden_sample(golden_model, golden_rgb, ["det"])
    out = sampler.generate(sample, golden_schedule(manifest, "G6_cfg2_ar_det"))
    assert torch.equal(out["det"]["tensor"], golden_generation["gen.G6_cfg2_ar_det.tokens"])


def logits_at(model, rgb, key, tokens, input_mask, queries):
    """The model's logits for ``key`` at ``queries`` given the state (tokens, input_mask): (len(queries), V)."""
    sample = {"rgb@224": full_input(model.specs["rgb@224"], rgb),
              key: {"tensor": tokens[None], "input_mask": input_mask[None], "target_mask": ~input_mask[None],
                    "decoder_attention_mask": torch.zeros(1, tokens.numel(), dtype=torch.long)}}
    with torch.no_grad():
        runner = DecoderRunner(model, encode(model, sample))
        return grid_logits(model, runner, key, sample[key], queries[None])[0]


def argmax_at(model, rgb, key, tokens, input_mask, queries):
    """Argmax of `logits_at`; with the float64 logits and their float32 bound, to tell near ties (docs/numerics.md).

    The bound: every layer's reduction plus attention over at most all tokens of the sample (the image's and
    the target's) in every encoder, decoder self- and cross-attention layer, relative to the row's largest logit.
    """
    logits = logits_at(model, rgb, key, tokens, input_mask, queries)
    truth = in_float64(logits_at, model, rgb, key, tokens, input_mask, queries)
    tokens_seen = model.specs["rgb@224"].max_tokens + tokens.numel()
    depth = model.config.encoder_depth + 2 * model.config.decoder_depth
    bound = rounding_bound(reduction_length(model) + 2 * depth * tokens_seen, truth.abs().amax(-1, keepdim=True))
    assert_within_float32_bound(f"{key} logits", logits, None, truth, bound)
    return logits.argmax(-1), top2_margin(truth), bound[:, 0]


@pytest.mark.parametrize("name, key, query_all_pending", [
    ("G2_maskgit4_depth", "tok_depth@224", True), ("G3_roar4_dinoglobal", "tok_dinov2_global", False)])
def test_each_reference_step_commits_the_argmax_of_the_previous_state(
        golden_model, golden_rgb, golden_generation, manifest, name, key, query_all_pending):
    tokens = golden_generation[f"gen.{name}.tokens_per_step"]
    hidden = golden_generation[f"gen.{name}.input_mask_per_step"]
    counts = [step["num_tokens"] for step in manifest["generation"][name]["schedule"]]
    for s in range(1, tokens.shape[0]):
        new = hidden[s - 1] & ~hidden[s]
        assert int(new.sum()) == counts[s - 1]
        queries = (hidden[s - 1] if query_all_pending else new).nonzero().flatten()
        predicted, margin, error = argmax_at(golden_model, golden_rgb, key, tokens[s - 1], hidden[s - 1], queries)
        chosen = new[queries]
        assert_discrete_match(f"{name} step {s}", predicted[chosen], tokens[s][new], margin[chosen], error[chosen])


@pytest.mark.parametrize("name, key", [("G2_maskgit4_depth", "tok_depth@224"),
                                       ("G3_roar4_dinoglobal", "tok_dinov2_global")])
def test_our_multi_step_runs_satisfy_the_same_per_step_property(golden_model, golden_rgb, manifest, name, key):
    schedule = golden_schedule(manifest, name)
    sampler = GenerationSampler(golden_model)
    before = golden_sample(golden_model, golden_rgb, [key])
    for step, after in zip(schedule, sampler.generate_iter(before, schedule, seed=0)):
        hidden_before, hidden_after = before[key]["input_mask"][0], after[key]["input_mask"][0]
        new = hidden_before & ~hidden_after
        assert int(new.sum()) == step.num_tokens
        queries = (hidden_before if step.scheme.value == "maskgit" else new).nonzero().flatten()
        predicted, _, _ = argmax_at(golden_model, golden_rgb, key, before[key]["tensor"][0], hidden_before, queries)
        assert torch.equal(predicted[new[queries]], after[key]["tensor"][0][new])  # our own run: same float32 logits
        before = after
    assert not before[key]["input_mask"].any()


def test_the_one_step_depth_golden_is_the_argmax_away_from_near_ties(golden_model, golden_rgb, golden_generation):
    """G1 commits all 196 argmaxes at once: each matches the fixture, or is reported as a near tie."""
    hidden = torch.ones(196, dtype=torch.bool)
    predicted, margin, error = argmax_at(golden_model, golden_rgb, "tok_depth@224", torch.zeros(196, dtype=torch.long),
                                         hidden, hidden.nonzero().flatten())
    assert_discrete_match("G1 depth tokens", predicted, golden_generation["gen.G1_maskgit1_depth.tokens"][0], margin,
                          error)
