"""The masking page's example for a modality of one's own runs, and its budget table is the policies' defaults."""

from __future__ import annotations

import numpy as np
import torch

from mm4m.core.masking.config import KeepMode
from mm4m.core.masking.policies import BUILTIN_POLICIES
from mm4m.core.spec import ModalitySpec

from .markdown import code_blocks, section, table

PAGE = "masking.md"


def text_spec(key: str) -> ModalitySpec:
    return ModalitySpec(key=key, kind="text_sequence", vocab_size=30000, max_tokens=12,
                        positional_embedding="sincos_1d", decoding="autoregressive",
                        tokenizer={"family": "wordpiece", "id": "wordpiece-4m-30k"})


def grid_spec(key: str) -> ModalitySpec:
    return ModalitySpec(key=key, kind="image_tokens", vocab_size=64, patch_size=16, input_size=64,
                        positional_embedding="sincos_2d", decoding="roar", tokenizer={"family": "vqvae", "id": "v"})


SPECS = [text_spec("a_text"), text_spec("b_text"), grid_spec("c_grid@64"), grid_spec("d_grid@64")]
BATCH = {"a_text": [[300, 301], [302]], "b_text": [[310], [311, 312, 313]],
         "c_grid@64": torch.zeros(2, 16, dtype=torch.long), "d_grid@64": torch.ones(2, 16, dtype=torch.long)}


def test_the_own_modality_example_runs():
    (block,) = code_blocks(section(PAGE, "Masking a modality of your own"), "python")
    namespace: dict = {}
    exec(compile(block, f"docs/{PAGE}", "exec"), namespace)  # noqa: S102 - the page's own example
    masked = namespace["masked"]
    assert set(masked.input_budgets) == {"scene_tags", "tok_foo@224"}
    assert (masked.input_budgets["scene_tags"][masked.components == 1] == 0).all()
    assert namespace["simple"].config.mixture.modalities["scene_tags"].input_alphas == (0.5,)
    assert "scene_tags" in namespace["extended"].modalities


def budget_rows() -> dict[str, dict[str, str]]:
    rows = table(section(PAGE, "Default budgets of the named policies"))
    return {row["policy"].strip("`"): row for row in rows}


def test_the_budget_table_lists_every_named_policy():
    assert set(budget_rows()) == set(BUILTIN_POLICIES)


def test_the_unified_row_is_its_factorys_budgets():
    row = budget_rows()["unified"]
    config = BUILTIN_POLICIES["unified"](SPECS).config
    n_in, n_tgt = int(row["input tokens per sample"]), int(row["target tokens per sample"])
    assert (config.input_tokens_range, config.target_tokens_range) == ((n_in, n_in), (n_tgt, n_tgt))
    assert {(r.input_alphas, r.target_alphas, r.keep) for r in config.mixture.modalities.values()} == \
        {((1.0,), (1.0,), (KeepMode.RANDOM,))}
    assert "α = 1" in row["which modalities"] and "`random`" in row["which modalities"]


def test_the_transfer_row_is_its_factorys_budgets():
    row = budget_rows()["transfer"]
    assert "`max_tokens`" in row["input tokens per sample"]
    assert "`max_tokens`, + 2 sentinels for a sequence" in row["target tokens per sample"]
    policy = BUILTIN_POLICIES["transfer"](SPECS)
    assert policy.inputs == ("a_text", "c_grid@64") and policy.targets == ("b_text", "d_grid@64")
    masked = policy.mask(BATCH)
    for spec in SPECS:
        whole = spec.max_tokens + (0 if spec.kind.is_image else 2)
        expected = (spec.max_tokens, 0) if spec.key in policy.inputs else (0, whole)
        got = (masked.input_budgets[spec.key], masked.target_budgets[spec.key])
        assert all(np.all(g == e) for g, e in zip(got, expected, strict=True)), (spec.key, got)
