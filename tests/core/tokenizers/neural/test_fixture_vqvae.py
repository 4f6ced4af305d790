"""Reference fixtures, feed-forward tokenizers: strict loading, tokens, latents and reconstructions (§8).

Float tensors lie within the float32 bound of a float64 recomputation (docs/numerics.md), the reference's
and ours; code ids are exact unless the assignment is a near tie; codebook lookups are copies, so exact.
"""

from __future__ import annotations

import pytest
import torch
from einops import rearrange

from mm4m.core.spec import TokenizerFamily
from mm4m.core.tokenizers.neural import VQVAE, load_model, load_tokenizer, read_checkpoint
from mm4m.core.tokenizers.neural.memcodes import Memcodes
from mm4m.testing.numerics import (assert_discrete_match, assert_within_float32_bound, in_float64, rounding_bound,
                                   top2_margin)

VQVAE_INPUTS = [("semseg_tiny", "in16"), ("semseg_tiny", "in24"), ("semseg_tiny", "in32"), ("featmap_tiny", "in6"),
                ("featmap_tiny", "in8"), ("sam_tiny", "in16"), ("global_tiny", "in")]


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
def test_tokens_latents_and_reconstructions_match_the_reference(name, case, checkpoints, tok_io, bounds):
    model = load_model(checkpoints[name])
    prefix = f"{name}.{case}"
    x = model.prepare_input(tok_io[prefix])
    with torch.no_grad():
        encoder_out = model.encoder(x)
        latents = model.quant_proj(encoder_out)
        quant, code_loss, tokens = model.quantize(latents)
        decoded = model.decode_quant(quant)
    truth, bound = bounds.network_truth_and_bound(model.encoder, x)
    assert_within_float32_bound("encoder_out", encoder_out, tok_io[f"{prefix}.encoder_out"], truth, bound)
    encoder = torch.nn.Sequential(model.encoder, model.quant_proj)
    latents_truth, latents_bound = bounds.network_truth_and_bound(encoder, x)
    assert_within_float32_bound("latents", latents, tok_io[f"{prefix}.latent"], latents_truth, latents_bound)
    assert tokens.dtype == torch.int64
    bounds.assert_codes_match("tokens", model.quantize, latents_truth, latents_bound, tokens, tok_io[f"{prefix}.tokens"])
    assert_code_values_match(model, tokens, quant, tok_io[f"{prefix}.quant"], bounds)
    decoder = torch.nn.Sequential(model.post_quant_proj, model.decoder)
    decoded_truth, decoded_bound = bounds.network_truth_and_bound(decoder, quant)
    assert_within_float32_bound("decoded", decoded, tok_io[f"{prefix}.decoded"], decoded_truth, decoded_bound)
    assert float(code_loss.abs().sum()) == 0.0  # inference adds no commitment loss: an exact zero
    if f"{prefix}.decoded_argmax" in tok_io:
        margin = top2_margin(decoded_truth.movedim(1, -1))
        assert_discrete_match("decoded_argmax", decoded.argmax(dim=1), tok_io[f"{prefix}.decoded_argmax"], margin,
                              decoded_bound.squeeze(1))


def assert_code_values_match(model, tokens, quant, reference, bounds) -> None:
    """Lucid's quantized latents are the raw codebook rows (a copy: exact); memcodes' are rows of to_v(codes)."""
    if isinstance(model.quantize, Memcodes):
        values = in_float64(model.quantize.to_v, model.quantize.codes.detach())
        # to_v is a per-head d×d product: d roundings, relative to the largest value.
        bound = rounding_bound(model.quantize.head_dim, values.abs().amax())
        picked = torch.stack([values[head, tokens[:, head]] for head in range(model.quantize.heads)])
        truth = rearrange(picked, "heads b h w d -> b (heads d) h w")
        assert_within_float32_bound("quant", quant, reference, truth, bound)
    else:
        assert torch.equal(quant, reference)


@pytest.mark.parametrize("name", ["semseg_tiny", "featmap_tiny", "sam_tiny", "global_tiny"])
def test_fixed_ids_decode_like_the_reference(name, checkpoints, tok_io, bounds):
    model = load_model(checkpoints[name])
    ids = tok_io[f"{name}.fixed_ids"]
    with torch.no_grad():
        embedding = model.tokens_to_embedding(ids)
        decoded = model.decode_tokens(ids)
    assert_code_values_match(model, ids, embedding, tok_io[f"{name}.fixed_ids.embedding"], bounds)
    decoder = torch.nn.Sequential(model.post_quant_proj, model.decoder)
    truth, bound = bounds.network_truth_and_bound(decoder, embedding)
    assert_within_float32_bound("decoded", decoded, tok_io[f"{name}.fixed_ids.decoded"], truth, bound)


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
    """forward() is encode then decode_quant: the same float32 operations, so the same bits in this process."""
    model = load_model(checkpoints["sam_tiny"])
    assert isinstance(model, VQVAE)
    with torch.no_grad():
        decoded, _ = model(tok_io["sam_tiny.in16"])
        quant, _, _ = model.encode(tok_io["sam_tiny.in16"])
        assert torch.equal(decoded, model.decode_quant(quant))
