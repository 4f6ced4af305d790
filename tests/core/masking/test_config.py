"""Reading alphas-mixture YAML files and data-config domain strings (spec §3.5) into validated models."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mm4m.core.masking import KeepMode, MaskingConfig, MaskingConfigError, builtin_config_path, load_alphas_mixture
from mm4m.core.masking.config import split_alphas, split_domains

CONFIGS = Path(__file__).with_name("configs")
KEYS_4M21 = 19


def test_new_form_keeps_weights_keep_modes_and_defaults_to_random():
    mixture = load_alphas_mixture(CONFIGS / "mix_weighted.yaml")
    assert mixture.num_components == 2
    assert mixture.sampling_weights == (2.0, 1.0)
    assert mixture.modalities["caption"].keep_mode(1) is KeepMode.ALL
    assert mixture.modalities["tok_depth@224"].keep_mode(0) is KeepMode.RANDOM


def test_old_form_has_no_weights():
    mixture = load_alphas_mixture(CONFIGS / "mix_uniform_old_form.yaml")
    assert mixture.sampling_weights is None
    assert mixture.modalities["caption"].keep == (KeepMode.BINARY, KeepMode.RANDOM)


def test_shipped_4m21_mixture_matches_the_spec():
    mixture = load_alphas_mixture(builtin_config_path("mix_mod21_all2allmix_rgb2all_capT5bias"))
    rows = mixture.modalities
    assert len(rows) == KEYS_4M21 and mixture.num_components == 7
    assert mixture.sampling_weights == (1, 1, 1, 1, 1, 0.5, 0.5)
    assert [rows["tok_depth@224"].input_alphas[k] for k in range(4)] == [0.01, 0.1, 1, 10]
    assert rows["rgb@224"].input_alphas[4] == 1000
    assert all(r.input_alphas[4] == 0 for k, r in rows.items() if k != "rgb@224")
    assert rows["caption"].input_alphas[5] == 5 and rows["caption"].keep_mode(5) is KeepMode.ALL
    assert rows["caption"].target_alphas[5] == 0
    assert rows["t5_caption"].input_alphas[6] == 5 and rows["t5_caption"].keep_mode(6) is KeepMode.ALL
    assert set(rows["color_palette"].keep) == {KeepMode.BINARY}


def test_data_config_with_alphas_file(tmp_path):
    data = yaml.safe_load((CONFIGS / "data_cc12m.yaml").read_text())
    config = MaskingConfig.from_dataset(data["train"]["datasets"]["cc12m"], source="data_cc12m.yaml",
                                        num_input_tokens=128, num_target_tokens=64, base_dir=CONFIGS)
    assert config.modalities == ("caption", "rgb@224", "tok_depth@224")
    assert config.input_tokens_range == (128, 128) and config.target_tokens_range == (64, 64)
    assert config.mixture.num_components == 2


def test_data_config_with_alpha_strings():
    data = yaml.safe_load((CONFIGS / "data_cc12m.yaml").read_text())
    config = MaskingConfig.from_dataset(data["train"]["datasets"]["coyo"], source="data_cc12m.yaml",
                                        num_input_tokens=128, num_target_tokens=64)
    assert config.num_input_tokens == 64  # the dataset entry wins over the run-wide value
    rows = config.mixture.modalities
    assert rows["caption"].input_alphas == (0.5,) and rows["tok_rgb@224"].input_alphas == (1.0,)
    assert rows["tok_rgb@224"].target_alphas == (0.5,)


def test_split_helpers():
    assert split_domains("rgb@224-caption", source="f", field="in_domains") == ("rgb@224", "caption")
    assert split_alphas("0.5", ["a", "b"], source="f", field="input_alphas") == {"a": 0.5, "b": 0.5}
    with pytest.raises(MaskingConfigError, match=r"f: field 'input_alphas': expected 1 or 2 values"):
        split_alphas("1-2-3", ["a", "b"], source="f", field="input_alphas")
    with pytest.raises(MaskingConfigError, match=r"field 'in_domains': repeated key"):
        split_domains("a-a", source="f", field="in_domains")


def test_errors_name_file_modality_and_field(tmp_path):
    with pytest.raises(MaskingConfigError) as err:
        load_alphas_mixture(CONFIGS / "mix_bad_keep.yaml")
    message = str(err.value)
    assert "mix_bad_keep.yaml" in message and "modality 'caption'" in message and "field 'keep.1'" in message
    bad = tmp_path / "bad.yaml"
    bad.write_text("alphas_mixture:\n  det:\n    input_alphas: [1, 2]\n    target_alphas: [1]\n")
    with pytest.raises(MaskingConfigError, match=r"bad.yaml: modality 'det': field 'target_alphas'"):
        load_alphas_mixture(bad)
    with pytest.raises(MaskingConfigError, match=r"missing.yaml: cannot read the file"):
        load_alphas_mixture(tmp_path / "missing.yaml")


def test_domain_without_alphas_is_named():
    dataset = {"in_domains": "caption-det", "out_domains": "caption", "alphas_config": "mix_weighted.yaml"}
    with pytest.raises(MaskingConfigError, match=r"modality 'det': field 'alphas_mixture'"):
        MaskingConfig.from_dataset(dataset, source="d.yaml", num_input_tokens=8, num_target_tokens=8,
                                   base_dir=CONFIGS)


def test_missing_budget_is_named():
    dataset = {"in_domains": "caption", "out_domains": "caption", "input_alphas": 1, "target_alphas": 1}
    with pytest.raises(MaskingConfigError, match=r"d.yaml: field 'num_target_tokens': missing"):
        MaskingConfig.from_dataset(dataset, source="d.yaml", num_input_tokens=8)
