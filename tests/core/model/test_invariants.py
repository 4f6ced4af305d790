"""Model-side invariants of spec §4.3 (items 12–17) on tiny random models, as hypothesis properties."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mm4m.core.model.tokens import PAD_MODALITY_ID
from mm4m.testing.numerics import assert_within_float32_bound, reduction_length, rounding_bound

ATOL = 2e-5  # losses, and the size a real change must exceed; decoder outputs use `assert_same_outputs`
ATTENDED_TOKENS = 20 + 16 + 16 + 24 + 24
"""At most the tokens of a `BUDGETS` batch (rgb, two image targets, two sequences) any attention sees."""
SEEDS = st.integers(0, 2**31 - 1)
IMG = st.tuples(st.integers(0, 16), st.integers(0, 16)).filter(lambda t: t[0] + t[1] <= 16)
SEQ = st.tuples(st.integers(1, 12), st.integers(0, 12))
BUDGETS = st.fixed_dictionaries({"rgb@224": st.tuples(st.integers(1, 20), st.just(0)),
                                 "tok_depth@224": IMG, "tok_dinov2_global": IMG, "caption": SEQ, "det": SEQ})
MODEL_SETTINGS = settings(max_examples=10, deadline=None)


@pytest.fixture(scope="module", params=["swiglu", "gelu_qknorm"])
def model(request, batches):
    return batches.tiny_model(seed=1, variant=request.param)


def assert_same_outputs(name, other, base, model):
    """Two float32 passes computing the same outputs in other orders: each within the network's bound of the
    exact result, so 2× that of each other (every layer's reduction, 2 per attended token per attention layer,
    relative to each row's largest |value|; docs/numerics.md)."""
    layers = model.config.encoder_depth + 2 * model.config.decoder_depth
    n = reduction_length(model) + 2 * layers * ATTENDED_TOKENS
    assert_within_float32_bound(name, other, None, base.double(),
                                2 * rounding_bound(n, base.double().abs().amax(-1, keepdim=True)))


def valid_outputs(model, mod_dict, n_enc=None, n_dec=None):
    """{key: (rows of valid decoder outputs, their targets)} for a pass with generous budgets."""
    n_enc = n_enc or sum(e["input_mask"].shape[1] for k, e in mod_dict.items() if k in model.encoder_embeddings)
    n_dec = n_dec or sum(e["target_mask"].shape[1] for k, e in mod_dict.items() if k in model.decoder_embeddings)
    with torch.no_grad():
        enc = model.forward_encoder(mod_dict, n_enc)
        queries = model.select_decoder_tokens(model.embed_decoder(mod_dict), n_dec)
        y = model.forward_decoder(queries, enc)
    ids = queries.with_padding_ids().mod_ids
    return {k: y[ids == model.specs[k].modality_id] for k in model.decoder_keys(mod_dict)}


@MODEL_SETTINGS
@given(seed=SEEDS, budgets=BUDGETS)
def test_12_number_of_valid_decoder_tokens(model, batches, seed, budgets):
    mod_dict = batches.random_mod_dict(seed, budgets)
    queries = model.select_decoder_tokens(model.embed_decoder(mod_dict), 10_000).with_padding_ids()
    for key in model.decoder_keys(mod_dict):
        n_valid = int((queries.mod_ids == model.specs[key].modality_id).sum())
        b_tgt = budgets[key][1]
        expected = b_tgt if model.specs[key].kind.is_image else max(0, b_tgt - 1)
        assert n_valid == 2 * expected, key


@MODEL_SETTINGS
@given(seed=SEEDS, budgets=BUDGETS, budget=st.integers(1, 120))
def test_13_valid_first_in_concatenation_order_and_clean_padding(model, batches, seed, budgets, budget):
    mod_dict = batches.random_mod_dict(seed, budgets)
    for tokens, selected in (
        (model.embed_encoder(mod_dict), model.select_encoder_tokens(model.embed_encoder(mod_dict), budget)),
        (model.embed_decoder(mod_dict),
         model.select_decoder_tokens(model.embed_decoder(mod_dict), budget).with_padding_ids()),
    ):
        for b in range(2):
            valid_positions = (~tokens.mask[b]).nonzero()[:, 0][:budget]
            n = len(valid_positions)
            assert not selected.mask[b, :n].any() and selected.mask[b, n:].all()
            torch.testing.assert_close(selected.x[b, :n], tokens.x[b, valid_positions])
            assert torch.equal(selected.mod_ids[b, :n], tokens.mod_ids[b, valid_positions])
            assert not selected.x[b, n:].any() and not selected.emb[b, n:].any()
            assert (selected.mod_ids[b, n:] == PAD_MODALITY_ID).all()
            if selected.target_ids is not None:
                assert not selected.target_ids[b, n:].any()


@MODEL_SETTINGS
@given(seed=SEEDS, budgets=BUDGETS, order_seed=SEEDS, extra_enc=st.integers(0, 7), extra_dec=st.integers(0, 7))
def test_14_outputs_independent_of_modality_order_and_padding(model, batches, seed, budgets, order_seed,
                                                              extra_enc, extra_dec):
    mod_dict = batches.random_mod_dict(seed, budgets)
    base = valid_outputs(model, mod_dict)
    perm = torch.randperm(len(mod_dict), generator=torch.Generator().manual_seed(order_seed)).tolist()
    shuffled = {list(mod_dict)[i]: mod_dict[list(mod_dict)[i]] for i in perm}
    n_enc = int((~torch.cat([e["input_mask"] for e in mod_dict.values()], 1)).sum(1).max()) + extra_enc
    n_dec = max(1, sum(2 * b[1] for b in budgets.values())) + extra_dec  # ≥ any sample's valid targets
    other = valid_outputs(model, shuffled, n_enc, n_dec)
    for key in base:
        assert_same_outputs(key, other[key], base[key], model)


@MODEL_SETTINGS
@given(seed=SEEDS, budgets=BUDGETS, dropped=st.sampled_from(["tok_depth@224", "tok_dinov2_global", "caption", "det"]))
def test_14_outputs_independent_of_other_modalities_targets(model, batches, seed, budgets, dropped):
    mod_dict = batches.random_mod_dict(seed, budgets)
    base = valid_outputs(model, mod_dict)
    changed = {k: dict(v) for k, v in mod_dict.items()}
    changed[dropped]["target_mask"] = torch.ones_like(changed[dropped]["target_mask"])
    changed[dropped]["decoder_attention_mask"] = torch.zeros_like(changed[dropped]["decoder_attention_mask"])
    other = valid_outputs(model, changed)
    for key in base:
        if key != dropped:
            assert_same_outputs(key, other[key], base[key], model)


@MODEL_SETTINGS
@given(seed=SEEDS, l_in=st.integers(1, 8), l_tgt=st.integers(3, 12), cut=st.integers(1, 10))
def test_14_sequence_targets_are_causal(model, batches, seed, l_in, l_tgt, cut):
    mod_dict = batches.random_mod_dict(seed, {"rgb@224": (5, 0), "caption": (l_in, l_tgt)})
    base = valid_outputs(model, mod_dict)["caption"].reshape(2, l_tgt - 1, -1)
    cut = min(cut, l_tgt - 2)
    changed = {k: dict(v) for k, v in mod_dict.items()}
    changed["caption"]["tensor"] = mod_dict["caption"]["tensor"].clone()
    changed["caption"]["tensor"][:, l_in + cut:l_in + l_tgt] += 7  # later target tokens only
    other = valid_outputs(model, changed)["caption"].reshape(2, l_tgt - 1, -1)
    assert_same_outputs("before the cut", other[:, :cut], base[:, :cut], model)
    assert not torch.allclose(other[:, cut:], base[:, cut:], atol=ATOL)


@MODEL_SETTINGS
@given(seed=SEEDS, b_tgt=st.integers(2, 12))
def test_14_image_targets_see_all_targets_of_their_modality(model, batches, seed, b_tgt):
    """Every image target attends to every other one: changing the last target's slot changes all rows."""
    mod_dict = batches.random_mod_dict(seed, {"rgb@224": (5, 0), "tok_depth@224": (3, b_tgt)})
    base = valid_outputs(model, mod_dict)["tok_depth@224"].reshape(2, b_tgt, -1)
    grid = model.decoder_embeddings["tok_depth@224"]
    with torch.no_grad():
        saved = grid.pos_emb.clone()
        last = (~mod_dict["tok_depth@224"]["target_mask"][0]).nonzero()[-1, 0]
        grid.pos_emb[0, last] += torch.linspace(-1.0, 1.0, grid.pos_emb.shape[-1])
        other = valid_outputs(model, mod_dict)["tok_depth@224"].reshape(2, b_tgt, -1)
        grid.pos_emb.copy_(saved)
    assert (other[0] - base[0]).abs().amax(-1).min() > 1e-6


@MODEL_SETTINGS
@given(seed=SEEDS, budgets=BUDGETS, noise_seed=SEEDS)
def test_15_ignored_tokens_do_not_matter(model, batches, seed, budgets, noise_seed):
    mod_dict = batches.random_mod_dict(seed, budgets)
    g = torch.Generator().manual_seed(noise_seed)
    changed = {}
    for key, entry in mod_dict.items():
        ignored = entry["input_mask"] & entry["target_mask"]
        tensor = entry["tensor"].clone()
        if key == "rgb@224":
            patch = ignored[:, :, None].expand(-1, -1, 256).reshape(2, 14, 14, 16, 16).permute(0, 1, 3, 2, 4)
            pixel_ignored = patch.reshape(2, 224, 224)[:, None].expand_as(tensor)
            tensor[pixel_ignored] = torch.randn(int(pixel_ignored.sum()), generator=g)
        else:
            tensor[ignored] = torch.randint(4, 1000, (int(ignored.sum()),), generator=g).to(tensor.dtype)
        changed[key] = {**entry, "tensor": tensor}
    n_enc, n_dec = 100, 60
    with torch.no_grad():
        loss, losses = model(mod_dict, n_enc, n_dec)
        loss2, losses2 = model(changed, n_enc, n_dec)
    torch.testing.assert_close(loss2, loss, atol=ATOL, rtol=0)
    for key in losses:
        torch.testing.assert_close(losses2[key], losses[key], atol=ATOL, rtol=0)


@MODEL_SETTINGS
@given(seed=SEEDS, b_in=st.integers(1, 8), b_tgt=st.integers(1, 8), perm_seed=SEEDS)
def test_16_permuting_image_tokens_with_positions_permutes_outputs(batches, seed, b_in, b_tgt, perm_seed):
    model = batches.tiny_model(seed=2, domains_in=["tok_dinov2_global"], domains_out=["tok_dinov2_global"])
    key = "tok_dinov2_global"
    mod_dict = batches.random_mod_dict(seed, {key: (b_in, b_tgt)}, batch=1)
    entry = mod_dict[key]
    perm = torch.randperm(16, generator=torch.Generator().manual_seed(perm_seed))
    moved = {f: entry[f][:, perm] for f in ("tensor", "input_mask", "target_mask")}
    codes = torch.zeros_like(entry["decoder_attention_mask"])
    codes[0, int((~moved["target_mask"][0]).nonzero()[0, 0])] = b_tgt
    base = valid_outputs(model, mod_dict)[key]
    targets_before = (~entry["target_mask"][0]).nonzero()[:, 0]
    with torch.no_grad():
        for table in (model.encoder_embeddings[key], model.decoder_embeddings[key]):
            table.pos_emb.copy_(table.pos_emb[:, perm])
        other = valid_outputs(model, {key: {**moved, "decoder_attention_mask": codes}})[key]
    targets_after = perm[(~moved["target_mask"][0]).nonzero()[:, 0]]  # original position of each new row
    reorder = torch.argsort(targets_after)
    assert torch.equal(targets_after[reorder], targets_before)
    assert_same_outputs("permuted rows", other[reorder], base, model)


@MODEL_SETTINGS
@given(seed=SEEDS, budgets=BUDGETS)
def test_17_true_means_excluded(model, batches, seed, budgets):
    """Flipping every input mask to True (all excluded) leaves no valid encoder token."""
    mod_dict = batches.random_mod_dict(seed, budgets)
    hidden = {k: {**v, "input_mask": torch.ones_like(v["input_mask"])} for k, v in mod_dict.items()}
    assert model.select_encoder_tokens(model.embed_encoder(hidden), 50).mask.all()
    visible = model.select_encoder_tokens(model.embed_encoder(mod_dict), 500)
    assert int((~visible.mask).sum()) == sum(int((~v["input_mask"]).sum()) for v in mod_dict.values())
