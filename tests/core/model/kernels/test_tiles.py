"""Tile plans are exact (against the dense mask) and skip the analytically expected share of tiles."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mm4m.core.model.kernels.tiles import TILE_FULL, TILE_MASKED, TILE_SKIPPED, plan_tiles, rule_vectors

_spec = importlib.util.spec_from_file_location("mm4m_kernel_reference", Path(__file__).with_name("reference.py"))
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)


def plan_for(rules: dict[str, torch.Tensor], num_queries: int, num_keys: int, block_m: int, block_n: int):
    batch = next(iter(rules.values())).shape[0] if rules else 1
    vectors = rule_vectors(batch, num_queries, num_keys, q_segments=rules.get("q_segments"),
                           k_segments=rules.get("k_segments"), key_bound=rules.get("key_bound"),
                           key_valid=rules.get("key_valid"), device=torch.device("cpu"))
    return plan_tiles(vectors, block_m, block_n)


def tile_kinds_from_mask(mask: torch.Tensor, block_m: int, block_n: int) -> torch.Tensor:
    """(B, M, N) bool → kind per tile pair; rows past M are ignored, keys past N are never visible."""
    b, m, n = mask.shape
    tm, tn = -(-m // block_m), -(-n // block_n)
    padded = torch.zeros(b, tm * block_m, tn * block_n, dtype=torch.int8)
    padded[:, :m, :n] = mask.to(torch.int8)
    padded[:, m:, :] = 2  # rows that do not exist: neither visible nor hidden
    tiles = padded.view(b, tm, block_m, tn, block_n).transpose(2, 3).reshape(b, tm, tn, -1)
    kinds = torch.full((b, tm, tn), TILE_MASKED, dtype=torch.int8)
    kinds[~(tiles == 1).any(-1)] = TILE_SKIPPED
    kinds[(tiles == 1).any(-1) & (tiles != 0).all(-1)] = TILE_FULL
    return kinds


def assert_plan_exact(rules: dict[str, torch.Tensor], mask: torch.Tensor, block_m: int, block_n: int) -> None:
    """The plan's kinds equal the dense mask's, and its ranges span exactly the visited partner tiles."""
    b, m, n = mask.shape
    plan = plan_for(rules, m, n, block_m, block_n)
    expected = tile_kinds_from_mask(mask, block_m, block_n)
    assert torch.equal(plan.tile_kind, expected)
    visited = expected != TILE_SKIPPED
    for row in range(b):
        for ranges, hits_of in ((plan.key_tile_range[row], visited[row]), (plan.query_tile_range[row], visited[row].T)):
            for t, (first, last) in enumerate(ranges.tolist()):
                hits = hits_of[t].nonzero().flatten().tolist()
                assert (first, last) == ((hits[0], hits[-1] + 1) if hits else (0, 0))


@settings(max_examples=150)
@given(seed=st.integers(0, 2**31 - 1), m=st.integers(1, 70), n=st.integers(1, 70), ids=st.integers(1, 4),
       block_m=st.sampled_from([16, 32]), block_n=st.sampled_from([16, 32]))
def test_plan_is_exact_for_any_rules(seed, m, n, ids, block_m, block_n):
    g = torch.Generator().manual_seed(seed)
    segq, segk = torch.randint(-1, ids, (2, m), generator=g), torch.randint(-1, ids, (2, n), generator=g)
    bound = torch.randint(-2, n + 3, (2, m), generator=g)
    valid = torch.rand(2, n, generator=g) > torch.rand(1, generator=g)
    rules = {"q_segments": segq, "k_segments": segk, "key_bound": bound, "key_valid": valid}
    assert_plan_exact(rules, reference.reference_mask(segq, segk, bound, valid), block_m, block_n)


@settings(max_examples=150)
@given(lengths=st.lists(st.integers(0, 40), min_size=1, max_size=6), data=st.data(),
       padding=st.integers(0, 40), block=st.sampled_from([16, 32]))
def test_plan_is_exact_for_decoder_layouts(lengths, data, padding, block):
    causal = data.draw(st.lists(st.booleans(), min_size=len(lengths), max_size=len(lengths)))
    n = sum(lengths) + padding
    if n == 0:
        return
    rules = reference.decoder_rules(lengths, causal, n)
    valid = torch.ones(1, n, dtype=torch.bool)
    mask = reference.reference_mask(rules["q_segments"], rules["k_segments"], rules["key_bound"], valid)
    assert_plan_exact(rules, mask, block, block)


def analytical_decoder_tiles(lengths: list[int], causal: list[bool], tile: int) -> tuple[int, int]:
    """(visited, masked) tile pairs of tile-aligned modality runs: t² per block, t(t+1)/2 per causal run."""
    visited = masked = 0
    for length, is_causal in zip(lengths, causal, strict=True):
        t = length // tile
        visited += t * (t + 1) // 2 if is_causal else t * t
        masked += t if is_causal else 0
    return visited, masked


@pytest.mark.parametrize("num_modalities", [7, 21])
def test_skipped_tiles_match_the_analytical_count(num_modalities):
    tile = 16
    lengths = [tile * (1 + (m % 3)) for m in range(num_modalities)]
    causal = [m % 2 == 1 for m in range(num_modalities)]
    n = sum(lengths)
    plan = plan_for(reference.decoder_rules(lengths, causal, n), n, n, tile, tile)
    visited, masked = analytical_decoder_tiles(lengths, causal, tile)
    total = (n // tile) ** 2
    assert plan.skipped_fraction == pytest.approx(1 - visited / total)
    assert plan.masked_fraction == pytest.approx(masked / total)


def test_padding_only_encoder_visits_the_valid_key_tiles():
    n, valid_keys, tile = 100, 37, 16
    valid = (torch.arange(n) < valid_keys)[None]
    kinds = plan_for({"key_valid": valid}, n, n, tile, tile).tile_kind[0]
    query_tiles = -(-n // tile)
    assert (kinds != TILE_SKIPPED).sum() == query_tiles * -(-valid_keys // tile)
    assert (kinds == TILE_FULL).sum() == query_tiles * (valid_keys // tile)


def test_non_contiguous_segments_skip_the_gap_between_runs():
    rules = reference.decoder_rules([32, 32, 32], [False, True, False], budget=160)
    plan = plan_for(rules, 160, 160, 16, 16)
    padding_tile = 9  # padding queries of the last id: they see its valid run (key tiles 4-5), nothing between
    assert plan.key_tile_range[0, padding_tile].tolist() == [4, 6]
    assert plan.tile_kind[0, padding_tile].tolist() == [0, 0, 0, 0, TILE_FULL, TILE_FULL, 0, 0, 0, 0]
