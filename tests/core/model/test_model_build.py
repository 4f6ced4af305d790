"""Building FourM from the registry: named sizes, reference state-dict names and counts, errors, init."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mm4m.core.model.config import SIZES, VARIANTS, ConfigError, FourMConfig, named_config
from mm4m.core.model.fourm import FourM, ModelBuildError
from mm4m.core.model.inputs import ModDictError
from mm4m.core.model.layers import mlp_hidden
from mm4m.registry import get_registry

MOD21 = [k for k in get_registry().keys() if not k.endswith("@448")]
MOD21_OUT = [k for k in MOD21 if k not in ("rgb@224", "t5_caption")]


def meta_model(config: FourMConfig) -> FourM:
    with torch.device("meta"):
        return FourM(config)


def test_4m21_base_has_the_reference_key_count_and_parameters():
    """4M-21-B: 433 state-dict keys and 834M unique parameters (spec §2.1, §2.10)."""
    model = meta_model(named_config("base", "swiglu_nobias", domains_in=MOD21, domains_out=MOD21_OUT))
    assert len(MOD21) == 19
    assert len(model.state_dict()) == 433
    unique = sum(p.numel() for p in model.parameters())
    assert round(unique / 1e6) == 834


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_named_sizes_build_the_documented_blocks(size, variant):
    config = named_config(size, variant, domains_in=["rgb@224", "caption"], domains_out=["caption"])
    model = meta_model(config)
    sd = model.state_dict()
    dim = SIZES[size]["dim"]
    assert sum(k.endswith("attn.qkv.weight") and k.startswith("encoder.") for k in sd) == SIZES[size]["encoder_depth"]
    hidden = mlp_hidden(dim, 4.0, VARIANTS[variant]["gated_mlp"])
    assert sd["decoder.0.mlp.fc1.weight"].shape == (hidden, dim)
    assert ("encoder.0.mlp.fc3.weight" in sd) == VARIANTS[variant]["gated_mlp"]
    assert ("encoder.0.attn.q_norm.weight" in sd) == VARIANTS[variant]["qk_norm"]
    assert ("encoder.0.attn.qkv.bias" in sd) == VARIANTS[variant]["qkv_bias"]
    assert "encoder_norm.bias" in sd and "decoder_proj_context.bias" in sd
    assert sd["encoder_embeddings.caption.pos_emb"].shape == (1, 512, dim)


@pytest.mark.parametrize("dim, hidden", [(768, 2048), (1024, 2730), (2048, 5461), (32, 85)])
def test_swiglu_hidden_width(dim, hidden):
    assert mlp_hidden(dim, 4.0, gated=True) == hidden


def test_modality_embeddings_are_shared_and_heads_untied():
    model = FourM(FourMConfig(domains_in=["caption"], domains_out=["caption"], dim=32, num_heads=4,
                              encoder_depth=1, decoder_depth=1))
    enc, dec = model.encoder_embeddings["caption"], model.decoder_embeddings["caption"]
    assert dec.mod_emb is enc.mod_emb
    assert dec.to_logits.weight is not dec.token_emb.weight
    assert {"encoder_embeddings.caption.mod_emb", "decoder_embeddings.caption.mod_emb"} <= set(model.state_dict())


def test_initialisation_follows_the_reference_rules():
    torch.manual_seed(0)
    model = FourM(named_config("tiny", "gelu", domains_in=["tok_depth@224"], domains_out=["tok_depth@224"]))
    qkv = model.encoder[0].attn.qkv.weight
    bound = (6.0 / (qkv.shape[0] / 3 + qkv.shape[1])) ** 0.5
    assert qkv.abs().max() <= bound and qkv.abs().max() > 0.9 * bound
    kv = model.decoder[0].cross_attn.kv.weight
    assert kv.abs().max() <= (6.0 / (kv.shape[0] / 2 + kv.shape[1])) ** 0.5
    assert not model.encoder[0].attn.qkv.bias.any() and torch.equal(model.encoder_norm.weight, torch.ones(384))
    assert abs(float(model.mask_token.detach().std()) - 0.02) < 0.005


def test_missing_plugin_names_the_pip_package(monkeypatch):
    registry = get_registry()
    monkeypatch.setattr(type(registry), "__contains__", lambda self, key: key != "tok_depth@224")
    with pytest.raises(ModelBuildError, match="pip install mm4m-modality-depth"):
        FourM(FourMConfig(domains_in=["tok_depth@224"], domains_out=["tok_depth@224"], dim=32, num_heads=4))


def test_input_only_modality_cannot_be_a_target():
    with pytest.raises(ModelBuildError, match="'rgb@224' cannot be a target"):
        FourM(FourMConfig(domains_in=["rgb@224"], domains_out=["rgb@224"], dim=32, num_heads=4))


@settings(max_examples=50)
@given(field=st.sampled_from(["dim", "num_heads", "act_layer", "domains_in"]))
def test_bad_config_names_the_field(field):
    data = {"domains_in": ["caption"], "domains_out": ["caption"], "dim": 32, "num_heads": 4}
    data[field] = {"dim": 30, "num_heads": 0, "act_layer": "ReLU", "domains_in": ["caption", "caption"]}[field]
    with pytest.raises(ConfigError, match=field if field != "dim" else "num_heads"):
        FourMConfig.parse(data)


@pytest.fixture(scope="module")
def small(batches):
    return batches.tiny_model(seed=3)


def test_unknown_key_is_named(small, batches):
    mod_dict = batches.random_mod_dict(0, {"caption": (3, 4)})
    mod_dict["tok_normal@224"] = mod_dict["caption"]
    with pytest.raises(ModDictError, match="'tok_normal@224' is not a domain of this model"):
        small(mod_dict, 10, 10)


@pytest.mark.parametrize("field, bad, message", [
    ("input_mask", lambda e: e["input_mask"].int(), "'input_mask' must be bool"),
    ("target_mask", lambda e: e["target_mask"][:, :100], r"'target_mask' must have shape \(2, 196\), found \(2, 100\)"),
    ("tensor", lambda e: e["tensor"][:, :50], r"expected token ids of shape \(B, 196\)"),
    ("tensor", lambda e: e["tensor"].float(), "expected integer token ids"),
    ("decoder_attention_mask", lambda e: e["decoder_attention_mask"].float(), "must be an integer tensor"),
])
def test_bad_tensor_names_key_expected_and_found(small, batches, field, bad, message):
    mod_dict = batches.random_mod_dict(0, {"rgb@224": (4, 0), "tok_depth@224": (3, 4)})
    mod_dict["tok_depth@224"][field] = bad(mod_dict["tok_depth@224"])
    with pytest.raises(ValueError, match=f"tok_depth@224.*{message}"):
        small(mod_dict, 10, 10)


def test_loss_types_combine_as_the_reference(small, batches):
    """mod: plain mean over present targets (empty ones count as 0); token: weights tokens × vocabulary."""
    mod_dict = batches.random_mod_dict(5, {"rgb@224": (8, 0), "tok_depth@224": (2, 6), "caption": (3, 5),
                                           "det": (4, 1)})
    with torch.no_grad():
        loss_mod, losses = small(mod_dict, 40, 40)
        loss_token, _ = small(mod_dict, 40, 40, loss_type="token")
    assert float(losses["det"]) == 0.0  # a 1-token target has no valid position after the shift
    torch.testing.assert_close(loss_mod, sum(losses.values()) / 3)
    weights = {"tok_depth@224": 2 * 6 * 8192, "caption": 2 * 4 * 30000, "det": 0}
    expected = sum(losses[k] * w for k, w in weights.items()) / sum(weights.values())
    torch.testing.assert_close(loss_token, expected)


def test_return_logits_gives_every_head_on_all_rows(small, batches):
    mod_dict = batches.random_mod_dict(1, {"rgb@224": (8, 0), "tok_depth@224": (2, 6), "caption": (3, 5)})
    with torch.no_grad():
        logits = small(mod_dict, 30, 17, return_logits=True)
    assert {k: tuple(v.shape) for k, v in logits.items()} == {"tok_depth@224": (2, 17, 8192), "caption": (2, 17, 30000)}


def test_backward_reaches_every_used_parameter(batches):
    model = batches.tiny_model(seed=4).train()
    mod_dict = batches.random_mod_dict(2, {"rgb@224": (8, 0), "tok_depth@224": (2, 6), "caption": (3, 5)})
    loss, _ = model(mod_dict, 20, 20)
    loss.backward()
    assert model.encoder[0].attn.qkv.weight.grad.abs().sum() > 0
    assert model.decoder_embeddings["caption"].to_logits.weight.grad.abs().sum() > 0


def test_decoder_runs_with_an_empty_encoder(small, batches):
    """An unconditional pass (every input masked, budget 0) still decodes, without NaN."""
    mod_dict = batches.random_mod_dict(3, {"rgb@224": (0, 0), "tok_depth@224": (0, 5)})
    with torch.no_grad():
        loss, losses = small(mod_dict, 0, 10)
    assert torch.isfinite(loss) and set(losses) == {"tok_depth@224"}
