"""The step-wise decoder equals the model's own decoder; its key/value cache changes nothing but speed."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mm4m.core.generation.decoder_runner import DecoderRunner, EncodedContext
from mm4m.core.generation.model_passes import encode, grid_queries
from mm4m.core.generation.sample_dict import empty_target, full_input
from mm4m.core.model.tokens import TokenSet
from mm4m.testing.numerics import assert_within_float32_bound, reduction_length, rounding_bound

CONTEXT_TOKENS = 196
"""The encoder tokens of `condition` (a full tok_rgb@224 grid), attended by every cross-attention layer."""


def assert_same_decoding(name, found, expected, model, queries):
    """Two float32 paths of one decoder: each within its bound of the exact result, so 2× that of each other.

    The bound: every layer's reduction plus, per decoder layer, 2 per attended token (``queries`` of self
    attention, the context of cross attention), relative to each row's largest |value| (docs/numerics.md).
    """
    attended = 2 * model.config.decoder_depth * (queries + CONTEXT_TOKENS)
    bound = rounding_bound(reduction_length(model) + attended, expected.double().abs().amax(-1, keepdim=True))
    assert_within_float32_bound(name, found, None, expected.double(), 2 * bound)


def condition(model, seed, batch=2):
    g = torch.Generator().manual_seed(seed)
    spec = model.specs["tok_rgb@224"]
    return {"tok_rgb@224": full_input(spec, torch.randint(0, spec.vocab_size, (batch, spec.max_tokens), generator=g))}


@given(seed=st.integers(0, 2**16), count=st.integers(1, 196))
@settings(max_examples=10)
def test_grid_queries_decode_exactly_like_forward_decoder(tiny_model, seed, count):
    model = tiny_model
    sample = condition(model, seed)
    sample["tok_depth@224"] = empty_target(model.specs["tok_depth@224"], 2)
    positions = torch.stack([torch.randperm(196, generator=torch.Generator().manual_seed(seed + b))[:count].sort()[0]
                             for b in range(2)])
    queries = grid_queries(model, "tok_depth@224", sample["tok_depth@224"], positions)
    with torch.no_grad():
        state = model.forward_encoder(sample, 196)
        codes = torch.zeros(2, count, dtype=torch.long)
        codes[:, 0] = count
        tokens = TokenSet(x=model.mask_token.expand(2, count, -1), emb=queries - model.mask_token,
                          mask=torch.zeros(2, count, dtype=torch.bool),
                          mod_ids=torch.full((2, count), model.specs["tok_depth@224"].modality_id), codes=codes)
        expected = model.forward_decoder(tokens, state)
        found = DecoderRunner(model, EncodedContext(state.context, state.context_valid)).run(queries, causal=False)
    assert_same_decoding("grid queries", found, expected, model, count)


@given(seed=st.integers(0, 2**16), length=st.integers(1, 24))
@settings(max_examples=10)
def test_cached_incremental_decoding_equals_recomputing_the_prefix(tiny_model, seed, length):
    model = tiny_model
    with torch.no_grad():
        runner = DecoderRunner(model, encode(model, condition(model, seed)))
        x = torch.randn(2, length, model.config.dim, generator=torch.Generator().manual_seed(seed))
        full = runner.run(x, causal=True)
        cached = DecoderRunner(model, encode(model, condition(model, seed)))
        steps = torch.cat([cached.run(x[:, i:i + 1], causal=True, keep_cache=True) for i in range(length)], dim=1)
    assert cached.cached_tokens == length
    assert_same_decoding("cached steps", steps, full, model, length)


def test_an_empty_context_still_decodes(tiny_model):
    """Unconditional passes may hide every input; G5/G6 check the values against the reference."""
    model = tiny_model
    empty = EncodedContext.empty(1, model.config.dim, device=torch.device("cpu"), dtype=torch.float32)
    x = torch.randn(1, 3, model.config.dim)
    with torch.no_grad():
        out = DecoderRunner(model, empty).run(x, causal=False)
    assert out.shape == x.shape and torch.isfinite(out).all()


@given(seed=st.integers(0, 2**16), length=st.integers(2, 12), capacity=st.integers(1, 4))
@settings(max_examples=5)
def test_a_cache_that_outgrows_its_capacity_still_equals_recomputing(tiny_model, seed, length, capacity):
    model = tiny_model
    with torch.no_grad():
        x = torch.randn(2, length, model.config.dim, generator=torch.Generator().manual_seed(seed))
        full = DecoderRunner(model, encode(model, condition(model, seed))).run(x, causal=True)
        cached = DecoderRunner(model, encode(model, condition(model, seed)), cache_capacity=capacity)
        steps = torch.cat([cached.run(x[:, i:i + 1], causal=True, keep_cache=True) for i in range(length)], dim=1)
    assert_same_decoding("cached steps", steps, full, model, length)


def test_queries_after_a_cached_prefix_see_it_without_joining_the_cache(tiny_model):
    """Several causal queries run on a cached prefix equal the rest of a full pass; the cache keeps the prefix."""
    model = tiny_model
    with torch.no_grad():
        x = torch.randn(2, 9, model.config.dim, generator=torch.Generator().manual_seed(0))
        full = DecoderRunner(model, encode(model, condition(model, 0))).run(x, causal=True)
        runner = DecoderRunner(model, encode(model, condition(model, 0)), cache_capacity=4)
        runner.run(x[:, :4], causal=True, keep_cache=True)
        rest = runner.run(x[:, 4:], causal=True)
    assert runner.cached_tokens == 4
    assert_same_decoding("queries after the prefix", rest, full[:, 4:], model, 9)
