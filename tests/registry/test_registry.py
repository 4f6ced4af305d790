"""The runtime registry: lazy plugin loading, in-process registration, duplicates and unknown keys."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mm4m
from mm4m.core.interfaces import Modality
from mm4m.core.modalities import ImageTokenModality, TextModality
from mm4m.core.spec import ModalitySpec, SpecError
from mm4m.registry import DuplicateModalityError, Registry, UnknownModalityError, reset_registry
from mm4m.registry.catalog import Catalog


def custom_spec(key: str = "my_heatmap@64") -> dict:
    return {"key": key, "kind": "image_tokens", "vocab_size": 512, "patch_size": 16, "input_size": 64,
            "positional_embedding": "sincos_2d", "decoding": "maskgit",
            "tokenizer": {"family": "vqvae", "id": "my-heatmap-vq"}}


@pytest.fixture
def empty() -> Registry:
    return Registry(Catalog({}, [], {}))


@pytest.fixture
def fresh_default():
    reset_registry()
    yield
    reset_registry()


def test_installed_plugins_provide_modalities_lazily():
    registry = Registry()
    assert "tok_depth@224" in registry
    assert not registry._loaded, "listing must not import plugin code"
    depth = registry.get("tok_depth@224")
    assert isinstance(depth, ImageTokenModality)
    assert registry._loaded == {"depth"}
    assert registry.provider("tok_depth@224").startswith("mm4m-modality-depth ")


@pytest.mark.parametrize(
    ("key", "encoder_keys", "decoder_keys"),
    [
        ("rgb@224", {"mod_emb", "pos_emb", "proj.weight"}, None),
        ("tok_depth@224", {"mod_emb", "pos_emb", "token_emb.weight"},
         {"mod_emb", "pos_emb", "token_emb.weight", "to_logits.weight"}),
        ("tok_dinov2_global", {"mod_emb", "pos_emb", "token_emb.weight"},
         {"mod_emb", "pos_emb", "token_emb.weight", "to_logits.weight"}),
        ("caption", {"mod_emb", "pos_emb", "token_emb.weight"},
         {"mod_emb", "pos_emb", "token_emb.weight", "to_logits.weight"}),
        ("t5_caption", {"mod_emb", "pos_emb", "emb_proj.weight", "emb_proj.bias"}, None),
    ],
)
def test_plugins_build_the_reference_embedding_layers(key, encoder_keys, decoder_keys):
    modality = Registry().get(key)
    encoder = modality.encoder_embedding(32)
    assert set(encoder.state_dict()) == encoder_keys
    decoder = modality.decoder_embedding(32)
    assert (decoder is None) == (decoder_keys is None)
    if decoder is not None:
        assert set(decoder.state_dict()) == decoder_keys
    spec = modality.spec
    positions = encoder.state_dict()["pos_emb"].shape
    assert positions == ((1, spec.max_tokens, 32) if spec.kind.is_image else (1, 512, 32))


def test_register_a_custom_modality_from_a_spec_dict(fresh_default):
    modality = mm4m.register_modality(custom_spec())
    assert isinstance(modality, ImageTokenModality)
    assert mm4m.get_modality("my_heatmap@64") is modality
    assert "my_heatmap@64" in mm4m.list_modalities()
    assert modality.encoder_embedding(16).pos_emb.shape == (1, 16, 16)


def test_duplicate_keys_are_refused_naming_both_providers(fresh_default):
    with pytest.raises(DuplicateModalityError) as info:
        mm4m.register_modality({**custom_spec("tok_depth@224"), "input_size": 224})
    assert "mm4m-modality-depth" in str(info.value) and "in-process" in str(info.value)
    assert "replace=True" in str(info.value)
    replacement = mm4m.register_modality({**custom_spec("tok_depth@224"), "input_size": 224}, replace=True)
    assert mm4m.get_modality("tok_depth@224") is replacement


def test_custom_modality_subclass_can_bring_its_own_layers(empty):
    class Scalar(Modality):
        def encoder_embedding(self, dim):
            import torch

            return torch.nn.Linear(1, dim)

        def decoder_embedding(self, dim):
            return None

    spec = ModalitySpec.parse({"key": "temperature", "kind": "sequence_embedding", "channels": 1, "max_tokens": 1,
                               "positional_embedding": "sincos_1d", "can_be_target": False,
                               "tokenizer": {"family": "none"}})
    empty.register(Scalar(spec))
    assert empty.get("temperature").encoder_embedding(8).out_features == 8


def test_wrong_layers_for_a_kind_are_refused():
    spec = ModalitySpec.parse(custom_spec())
    with pytest.raises(TypeError, match="TextModality serves kinds text_sequence; 'my_heatmap@64' is 'image_tokens'"):
        TextModality(spec)


def test_invalid_in_process_spec_names_the_field(empty):
    with pytest.raises(SpecError, match="field 'vocab_size'"):
        empty.register({**custom_spec(), "vocab_size": -1})


def test_unknown_keys_suggest_a_close_key_or_the_plugin_to_install(empty):
    registry = Registry()
    with pytest.raises(UnknownModalityError, match="did you mean 'tok_depth@224'"):
        registry.get("tok_dept@224")
    with pytest.raises(UnknownModalityError, match="pip install mm4m-modality-depth"):
        empty.get("tok_depth@224")
    with pytest.raises(UnknownModalityError, match="no in-process registration"):
        empty.unregister("nothing")


@given(st.lists(st.from_regex(r"\Acustom_[a-z]{1,8}\Z"), min_size=1, max_size=6, unique=True))
def test_registration_properties(keys):
    registry = Registry(Catalog({}, [], {}))
    for key in keys:
        registry.register(custom_spec(key))
    assert registry.keys() == sorted(keys)
    for key in keys:
        with pytest.raises(DuplicateModalityError):
            registry.register(custom_spec(key))
        assert registry.provider(key) == "in-process"
    registry.unregister(keys[0])
    assert keys[0] not in registry and registry.keys() == sorted(keys[1:])
    registry.register(custom_spec(keys[0]))
    assert registry.keys() == sorted(keys)


def failing_plugin_registry(monkeypatch, hook) -> Registry:
    """A registry whose only plugin (module ``acme_failing_plugin``) implements ``mm4m_modalities`` as ``hook``."""
    import sys
    import types

    from mm4m.registry import hookimpl
    from mm4m.registry.catalog import CatalogEntry, PluginStatus

    module = types.ModuleType("acme_failing_plugin")
    module.mm4m_modalities = hookimpl(hook)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    spec = ModalitySpec.parse(custom_spec()).model_dump(mode="json")
    plugin = PluginStatus("failing", "acme-failing", "1.0", module.__name__, None, "ok", ("my_heatmap@64",), ())
    entry = CatalogEntry("my_heatmap@64", spec, "failing", "acme-failing", "1.0")
    return Registry(Catalog({"my_heatmap@64": entry}, [plugin], {}), strict=False)


def raising_hook():
    raise RuntimeError("no GPU found")


def mismatched_keys():
    return [ImageTokenModality(ModalitySpec.parse(custom_spec("other@64")))]


@pytest.mark.parametrize(("hook", "reason"), [(raising_hook, "mm4m_modalities raised RuntimeError: no GPU found"),
                                              (mismatched_keys, "returned keys ['other@64']")])
def test_a_plugin_whose_hook_fails_has_status_failed(monkeypatch, hook, reason):
    registry = failing_plugin_registry(monkeypatch, hook)
    registry.load_all()
    [plugin] = registry.plugins
    assert plugin.status == "failed"
    assert len(plugin.problems) == 1 and reason in plugin.problems[0].message
    assert registry.unavailable_keys() == ["my_heatmap@64"]
