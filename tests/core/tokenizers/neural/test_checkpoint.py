"""Strict checkpoint loading: clear errors naming the file and keys for corrupt, truncated or mismatched files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from mm4m.core.tokenizers.neural import (
    VQVAE,
    CheckpointError,
    TokenizerConfigError,
    VQVAEConfig,
    load_model,
    load_tokenizer,
)

CONFIG = {"enc_type": "BottleneckMLP/B_1-Wi_16", "dec_type": "BottleneckMLP/B_1-Wi_16", "quant_type": "memcodes",
          "codebook_size": 8, "num_codebooks": 2, "latent_dim": 8, "n_channels": 6, "n_labels": None}


def write_checkpoint(path: Path, config: dict, state: dict[str, torch.Tensor] | None = None) -> Path:
    """Save ``state`` (default: a fresh model of ``config``) with the config as ``{key: str(value)}`` metadata."""
    if state is None:
        state = VQVAE(VQVAEConfig.model_validate(config)).state_dict()
    save_file({k: v.contiguous() for k, v in state.items()}, str(path),
              metadata={key: str(value) for key, value in config.items()})
    return path


def test_round_trip_of_a_fresh_model_through_the_released_format(tmp_path):
    model = VQVAE(VQVAEConfig.model_validate(CONFIG))
    path = write_checkpoint(tmp_path / "tok.safetensors", CONFIG, model.state_dict())
    loaded = load_model(path)
    x = torch.randn(3, 6, 1, 1)
    with torch.no_grad():
        assert torch.equal(loaded.tokenize(x), model.eval().tokenize(x))
        torch.testing.assert_close(loaded(x)[0], model(x)[0], atol=0.0, rtol=0.0)


def test_missing_and_unexpected_keys_are_named(tmp_path):
    state = VQVAE(VQVAEConfig.model_validate(CONFIG)).state_dict()
    state.pop("quantize.codes")
    state["decoder.extra.weight"] = torch.zeros(1)
    path = write_checkpoint(tmp_path / "keys.safetensors", CONFIG, state)
    with pytest.raises(CheckpointError, match=r"keys\.safetensors.*missing keys: quantize\.codes.*"
                                              r"unexpected keys: decoder\.extra\.weight"):
        load_model(path)


def test_a_shape_mismatch_names_the_key_and_both_shapes(tmp_path):
    state = VQVAE(VQVAEConfig.model_validate({**CONFIG, "codebook_size": 4})).state_dict()
    path = write_checkpoint(tmp_path / "shape.safetensors", CONFIG, state)
    with pytest.raises(CheckpointError, match=r"quantize\.codes: expected shape \(2, 8, 4\), found \(2, 4, 4\)"):
        load_model(path)


def test_truncated_and_corrupt_files_name_the_file(tmp_path):
    good = write_checkpoint(tmp_path / "good.safetensors", CONFIG).read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(good[: len(good) // 2])
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00\x01not a safetensors file")
    for path in (truncated, garbage):
        with pytest.raises(CheckpointError, match=rf"{path.name}: not a readable safetensors file"):
            load_model(path)
    with pytest.raises(CheckpointError, match="not found"):
        load_model(tmp_path / "absent.safetensors")


def test_a_file_without_config_metadata_is_rejected(tmp_path):
    path = tmp_path / "bare.safetensors"
    save_file({"w": torch.zeros(1)}, str(path))
    with pytest.raises(CheckpointError, match=r"bare\.safetensors: no '__metadata__' config"):
        load_model(path)


@pytest.mark.parametrize(("override", "message"), [
    ({"enc_type": "vit_xl_enc"}, r"enc_type.*unknown architecture 'vit_xl_enc'"),
    ({"quant_type": "fsq"}, r"quant_type.*found 'fsq'"),
    ({"latent_dim": 9}, r"'latent_dim' 9 must be divisible by 'num_codebooks' 2"),
    ({"enc_type": "BottleneckMLP/B_x"}, r"expected 'BottleneckMLP/B_<blocks>-Wi_<width>"),
])
def test_bad_configs_name_the_file_and_field(tmp_path, override, message):
    path = write_checkpoint(tmp_path / "cfg.safetensors", {**CONFIG, **override}, {"w": torch.zeros(1)})
    with pytest.raises(TokenizerConfigError, match=rf"cfg\.safetensors.*{message}"):
        load_tokenizer(path)


def test_unknown_config_keys_are_ignored_and_missing_ones_default(tmp_path):
    config = {**CONFIG, "some_future_option": "True"}
    path = write_checkpoint(tmp_path / "extra.safetensors", config)
    model = load_model(path)
    assert model.config.ema_decay == 0.99 and model.config.patch_size == 16
