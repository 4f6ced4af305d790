"""Official checkpoints load strictly from their metadata; mm4m's saves are stable and load back identically."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors import safe_open

from mm4m.core.checkpoint import load_fourm, save_checkpoint, save_pretrained
from mm4m.core.checkpoint.metadata import metadata_to_config
from mm4m.core.checkpoint.safetensors_file import header_metadata, header_shapes
from mm4m.core.model.fourm import FourM


def tensors_of(path: Path) -> dict[str, bytes]:
    with safe_open(str(path), "pt") as fh:
        return {k: fh.get_tensor(k).numpy().tobytes() for k in fh.keys()}


def outputs(model, batches, seed: int = 0):
    keys = set(model.encoder_embeddings) | set(model.decoder_embeddings)
    budgets = {"rgb@224": (7, 0), "tok_depth@224": (4, 6), "tok_dinov2_global": (3, 5), "caption": (4, 6),
               "det": (2, 5), "tok_rgb@224": (5, 5)}
    mod_dict = batches.random_mod_dict(seed, {k: v for k, v in budgets.items() if k in keys})
    with torch.no_grad():
        return model(mod_dict, 40, 40), model(mod_dict, 40, 40, return_logits=True)


@pytest.mark.parametrize("name", ["swiglu", "gelu_qknorm"])
def test_reference_checkpoint_loads_strictly_from_its_metadata(name, reference_checkpoints):
    path = reference_checkpoints[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = load_fourm(path)
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == header_shapes(path)
    assert not any(t.is_meta for t in model.state_dict().values())
    for key in model.decoder_embeddings.keys() & model.encoder_embeddings.keys():
        assert model.decoder_embeddings[key].mod_emb is model.encoder_embeddings[key].mod_emb


@pytest.mark.parametrize("name", ["swiglu", "gelu_qknorm"])
def test_save_load_save_is_stable(name, reference_checkpoints, tmp_path, batches):
    original = reference_checkpoints[name]
    model = load_fourm(original)
    first = save_checkpoint(model, tmp_path / "first.safetensors")
    reloaded = load_fourm(first)
    second = save_checkpoint(reloaded, tmp_path / "second.safetensors")
    assert tensors_of(first) == tensors_of(original) == tensors_of(second)
    assert metadata_to_config(header_metadata(first)) == metadata_to_config(header_metadata(original))
    assert header_metadata(first) == header_metadata(second)
    (loss_a, losses_a), logits_a = outputs(model, batches)
    (loss_b, losses_b), logits_b = outputs(reloaded, batches)
    assert torch.equal(loss_a, loss_b) and all(torch.equal(losses_a[k], losses_b[k]) for k in losses_a)
    assert all(torch.equal(logits_a[k], logits_b[k]) for k in logits_a)


CONFIGS = st.fixed_dictionaries({
    "variant": st.sampled_from(["swiglu", "gelu_qknorm"]),
    "dim": st.sampled_from([16, 32, 48]),
    "depth": st.integers(0, 2),
    "domains": st.sampled_from([
        (["rgb@224", "tok_depth@224"], ["tok_depth@224"]),
        (["caption", "tok_rgb@224"], ["det", "tok_rgb@224"]),
        (["rgb@224", "tok_dinov2_global", "det", "t5_caption"], ["caption", "tok_dinov2_global"]),
    ]),
    "extra": st.sampled_from([{}, {"num_register_tokens": 2}, {"decoder_causal_mask": True},
                              {"share_modality_embeddings": False}, {"decoder_sep_mask": False}]),
})


@settings(max_examples=6, deadline=None)
@given(cfg=CONFIGS, seed=st.integers(0, 1000))
def test_other_configurations_round_trip_through_both_layouts(cfg, seed, batches, tmp_path_factory):
    domains_in, domains_out = cfg["domains"]
    model = batches.tiny_model(seed=seed, variant=cfg["variant"], dim=cfg["dim"], depth=cfg["depth"],
                               domains_in=domains_in, domains_out=domains_out, **cfg["extra"])
    directory = save_pretrained(model, tmp_path_factory.mktemp("hub"))
    assert sorted(p.name for p in directory.iterdir()) == ["config.json", "model.safetensors"]
    for source in (directory, directory / "model.safetensors"):
        loaded = FourM.from_pretrained(source)
        assert loaded.config == model.config
        assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values()))
        (loss_a, _), logits_a = outputs(model, batches, seed)
        (loss_b, _), logits_b = outputs(loaded, batches, seed)
        assert torch.equal(loss_a, loss_b) and all(torch.equal(logits_a[k], logits_b[k]) for k in logits_a)


def test_loading_builds_on_meta_and_never_initialises(monkeypatch, reference_checkpoints):
    import mm4m.core.model.fourm as fourm

    seen = []
    real = fourm.init_weights
    monkeypatch.setattr(fourm, "init_weights", lambda m: (seen.append(all(p.is_meta for p in m.parameters())),
                                                          real(m)))
    load_fourm(reference_checkpoints["swiglu"])
    assert seen == [True]
