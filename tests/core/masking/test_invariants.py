"""Property tests of the masking invariants of spec §4.3 (items 1–11 and 17) for the unified policy,
over random modality mixes, alphas (0 and 1000 included), budgets, keep modes and sequence lengths."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.masking import KeepMode, MaskingConfig, UnifiedMasking
from mm4m.core.masking.config import AlphasMixture, ModalityAlphas
from mm4m.core.masking.result import MaskedBatch
from mm4m.core.spec import ModalityKind
from mm4m.testing import invariants as inv
from mm4m.testing.strategies import MaskingSetup, alphas, batches, masking_setups, modality_sets, modality_specs

TEXT = ModalityKind.TEXT_SEQUENCE


def masked(setup: MaskingSetup) -> MaskedBatch:
    policy = UnifiedMasking(setup.config, setup.specs)
    return policy.mask(setup.batch, generator=torch.Generator().manual_seed(setup.seed))


def single_component(setup_specs, inputs: dict[str, float], targets: dict[str, float], keep: KeepMode,
                     num_input: int, num_target: int) -> MaskingConfig:
    rows = {s.key: ModalityAlphas(input_alphas=(inputs.get(s.key, 0.0),), target_alphas=(targets.get(s.key, 0.0),),
                                  keep=(keep,)) for s in setup_specs}
    return MaskingConfig(in_domains=tuple(s.key for s in setup_specs if s.can_be_input),
                         out_domains=tuple(s.key for s in setup_specs if s.can_be_target),
                         mixture=AlphasMixture(modalities=rows), num_input_tokens=num_input,
                         num_target_tokens=num_target)


@st.composite
def source_setups(draw, source_kind: ModalityKind, source_alpha: float, keep: KeepMode = KeepMode.RANDOM):
    """One input-capable ``source`` modality with input α ``source_alpha``, the others input α 0."""
    others = draw(modality_sets(max_size=3))
    source = draw(modality_specs(kinds=[source_kind], key="source", target=True, input=True))
    specs = [source, *[s for s in others if s.key != "source"]]
    config = single_component(
        specs, inputs={"source": source_alpha, **{s.key: 0.0 for s in specs[1:]}},
        targets={s.key: draw(alphas()) for s in specs}, keep=keep,
        num_input=draw(st.integers(1, 2 * source.max_tokens + 4)), num_target=draw(st.integers(0, 64)))
    return MaskingSetup(specs=specs, config=config, batch=draw(batches(specs)), seed=draw(st.integers(0, 2**31)))


@given(masking_setups())
def test_1_no_token_is_both_input_and_target(setup):
    for key, out in masked(setup).modalities.items():
        inv.check_disjoint(key, out)


@given(masking_setups())
def test_2_grid_counts_equal_budgets(setup):
    result = masked(setup)
    for key, out in result.modalities.items():
        spec = setup.spec_map[key]
        if spec.kind.is_image:
            inv.check_grid_budgets(key, spec, out, result.input_budgets[key], result.target_budgets[key])


@given(masking_setups())
def test_3_budgets_sum_to_totals_unless_capped(setup):
    inv.check_budget_totals(masked(setup), setup.spec_map)


@given(masking_setups())
def test_4_budgets_are_integers_within_caps(setup):
    inv.check_budget_ranges(masked(setup), setup.spec_map)


@given(masking_setups())
def test_4_zero_alpha_receives_no_tokens(setup):
    result = masked(setup)
    mixture = setup.config.mixture
    for side, budgets, field in (("input", result.input_budgets, "input_alphas"),
                                 ("target", result.target_budgets, "target_alphas")):
        table = np.array([getattr(mixture.modalities[k], field) for k in budgets])  # (M, K)
        for b, c in enumerate(result.components):
            if not (table[:, c] > 0).any():
                continue
            for m, key in enumerate(budgets):
                if table[m, c] == 0:
                    assert budgets[key][b] == 0, f"{side} budget of '{key}' (alpha 0) is {budgets[key][b]}"


@given(source_setups(ModalityKind.IMAGE_TOKENS, 1000.0))
def test_4_alpha_1000_takes_the_whole_input_budget(setup):
    result = masked(setup)
    source = setup.spec_map["source"]
    expected = np.minimum(result.input_totals, source.max_tokens)
    assert np.array_equal(result.input_budgets["source"], expected)
    for key in setup.spec_map:
        if key != "source":
            assert not result.input_budgets[key].any(), f"'{key}' got input tokens in a source-to-all setup"


@given(masking_setups())
def test_5_grid_attention_code_at_first_target(setup):
    for key, out in masked(setup).modalities.items():
        if setup.spec_map[key].kind.is_image:
            inv.check_grid_attention(key, out)


@given(masking_setups())
def test_6_sequence_layout(setup):
    result = masked(setup)
    for key, out in result.modalities.items():
        if setup.spec_map[key].kind is TEXT:
            inv.check_text_layout(key, out, result.input_budgets[key])


@given(masking_setups())
def test_7_input_and_target_reconstruct_the_sequence(setup):
    result = masked(setup)
    for key, out in result.modalities.items():
        if setup.spec_map[key].kind is TEXT:
            inv.check_reconstruction(key, out, result.sequences[key], result.target_truncated[key])


@given(masking_setups())
def test_8_sentinel_order(setup):
    result = masked(setup)
    for key, out in result.modalities.items():
        if setup.spec_map[key].kind is TEXT:
            inv.check_sentinels(key, out, result.target_truncated[key])


@given(source_setups(ModalityKind.IMAGE_TOKENS, 1.0))
def test_9_sequence_without_input_budget_is_all_target(setup):
    result = masked(setup)
    texts = [k for k, s in setup.spec_map.items() if s.kind is TEXT]
    for key in texts:
        assert not result.input_budgets[key].any()
        inv.check_empty_inputs(key, result.modalities[key], result.sequences[key], result.input_budgets[key],
                               result.target_budgets[key])


@given(source_setups(TEXT, 1000.0, keep=KeepMode.ALL))
def test_10_keep_all_shows_the_whole_sequence(setup):
    result = masked(setup)
    inv.check_keep_all("source", result.modalities["source"], result.sequences["source"],
                       result.input_budgets["source"], result.target_budgets["source"])


@given(masking_setups())
def test_11_lengths_within_budgets(setup):
    result = masked(setup)
    for key, out in result.modalities.items():
        if not setup.spec_map[key].kind.is_image:
            inv.check_sequence_budgets(key, out, result.input_budgets[key], result.target_budgets[key])


@given(masking_setups())
def test_17_masks_are_bool_true_means_excluded(setup):
    for key, out in masked(setup).modalities.items():
        inv.check_encoding(key, setup.spec_map[key], out)
        inv.check_roles(key, setup.spec_map[key], out)
