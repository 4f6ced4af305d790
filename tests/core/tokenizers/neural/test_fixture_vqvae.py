"""Reference fixtures, feed-forward tokenizers: strict loading, tokens, latents and reconstructions (§8)."""

from __future__ import annotations

import pytest
import torch

from mm4m.core.spec import TokenizerFamily
from mm4m.core.tokenizers.neural import VQVAE, load_model, load_tokenizer, read_checkpoint

VQVAE_INPUTS = [("semseg_tiny", "in16"), ("semseg_tiny", "in24"), ("semseg_tiny", "in32"), ("featmap_tiny", "in6"),
                ("featmap_tiny", "in8"), ("sam_tiny", "in16"), ("global_tiny", "in")]
FLOAT_TOL = {"atol": 1e-5, "rtol": 0.0}


@pytest.mark.parametrize("name", ["semseg_tiny", "featmap_tiny", "sam_tiny", "global_tiny", "divae_tiny"])
def test_checkpoint_loads_strictly_from_its_metadata_with_the_reference_keys(name, checkpoints, manifest):
    model = load_model(checkpoints[name])
    expected = manifest["models"][name]
    shapes = {key: list(value.shape) for key, value in model.state_dict().items()}
    assert shapes == expected["state_dict"]
    assert sum(v.numel() for v in model.state_dict().values()) == expected["n_params_and_buffers"]
    assert type(model).__name__ == expected["class"]
    tensors, _ = read_checkpoint(checkpoints[name])
    for key, value in model.state_dict().items():
        assert torch.equal(value, tensors[key]), key


@pytest.mark.parametrize(("name", "case"), VQVAE_INPUTS)
def test_tokens_latents_and_reconstructions_match_the_reference(name, case, checkpoints, tok_io):
    model = load_model(checkpoints[name])
    prefix = f"{name}.{case}"
    x = tok_io[prefix]
    with torch.no_grad():
        encoder_out = model.encoder(model.prepare_input(x))
        latents = model.quant_proj(encoder_out)
        quant, code_loss, tokens = model.quantize(latents)
        decoded = model.decode_quant(quant)
    torch.testing.assert_close(encoder_out, tok_io[f"{prefix}.encoder_out"], **FLOAT_TOL)
    torch.testing.assert_close(latents, tok_io[f"{prefix}.latent"], **FLOAT_TOL)
    assert tokens.dtype == torch.int64
    assert torch.equal(tokens, tok_io[f"{prefix}.tokens"])
    torch.testing.assert_close(quant, tok_io[f"{prefix}.quant"], **FLOAT_TOL)
    torch.testing.assert_close(decoded, tok_io[f"{prefix}.decoded"], **FLOAT_TOL)
    assert float(code_loss.abs().sum()) == 0.0
    if f"{prefix}.decoded_argmax" in tok_io:
        assert torch.equal(decoded.argmax(dim=1), tok_io[f"{prefix}.decoded_argmax"])


@pytest.mark.parametrize("name", ["semseg_tiny", "featmap_tiny", "sam_tiny", "global_tiny"])
def test_fixed_ids_decode_like_the_reference(name, checkpoints, tok_io):
    model = load_model(checkpoints[name])
    ids = tok_io[f"{name}.fixed_ids"]
    with torch.no_grad():
        embedding = model.tokens_to_embedding(ids)
        decoded = model.decode_tokens(ids)
    torch.testing.assert_close(embedding, tok_io[f"{name}.fixed_ids.embedding"], atol=0.0, rtol=0.0)
    torch.testing.assert_close(decoded, tok_io[f"{name}.fixed_ids.decoded"], **FLOAT_TOL)


@pytest.mark.parametrize(("name", "family"), [("semseg_tiny", TokenizerFamily.VQVAE),
                                              ("featmap_tiny", TokenizerFamily.VQVAE),
                                              ("sam_tiny", TokenizerFamily.VQVAE),
                                              ("global_tiny", TokenizerFamily.MEMCODES_MLP),
                                              ("divae_tiny", TokenizerFamily.DIVAE)])
def test_load_tokenizer_dispatches_on_the_config_family(name, family, checkpoints, manifest):
    tokenizer = load_tokenizer(checkpoints[name], modality="tok_test")
    assert tokenizer.family is family
    assert tokenizer.modality == "tok_test"
    assert tokenizer.vocab_size == manifest["models"][name]["config"]["codebook_size"]
    assert not tokenizer.model.training


def test_forward_reconstructs_through_the_quantized_latents(checkpoints, tok_io):
    model = load_model(checkpoints["sam_tiny"])
    assert isinstance(model, VQVAE)
    with torch.no_grad():
        decoded, _ = model(tok_io["sam_tiny.in16"])
    torch.testing.assert_close(decoded, tok_io["sam_tiny.in16.decoded"], **FLOAT_TOL)
