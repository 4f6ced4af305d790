"""The `Tokenizer` interface over the fixture checkpoints: raw inputs, normalisation, layouts and input errors."""

from __future__ import annotations

import pytest
import torch

from mm4m.core.interfaces import Tokenizer
from mm4m.core.spec import InputNormalization
from mm4m.core.tokenizers.neural import DDIMScheduler, TokenizerInputError, load_tokenizer
from mm4m.testing.numerics import assert_within_float32_bound, rounding_bound

HALF = InputNormalization(method="mean_std", mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
LABELS = InputNormalization(method="label_shift", value_range=(0.0, 255.0))


def test_semseg_tokenizer_takes_raw_coco_labels_and_returns_them(checkpoints, tok_io):
    tokenizer = load_tokenizer(checkpoints["semseg_tiny"], modality="tok_semseg@32", normalization=LABELS)
    assert isinstance(tokenizer, Tokenizer)
    shifted = tok_io["semseg_tiny.in32"]
    raw = (shifted - 1) % 256  # class 0 of the model is COCO's 255 "unlabelled"
    tokens = tokenizer.tokenize(raw)
    assert torch.equal(tokens, tok_io["semseg_tiny.in32.tokens"])
    labels = tokenizer.detokenize(tokens.flatten(1))  # 4M's flattened layout is accepted
    assert torch.equal(labels, (tok_io["semseg_tiny.in32.decoded_argmax"] - 1) % 256)


def test_divae_tokenizer_normalises_unit_images_and_samples_back_to_them(checkpoints, tok_io):
    tokenizer = load_tokenizer(checkpoints["divae_tiny"], modality="tok_rgb@16", normalization=HALF)
    raw = tok_io["divae_tiny.in16"] * 0.5 + 0.5
    tokens = tokenizer.tokenize(raw)
    assert torch.equal(tokens, tok_io["divae_tiny.in16.tokens"])
    image = tokenizer.detokenize(tokens, steps=4, scheduler="ddim", generator=torch.Generator().manual_seed(1234))
    with torch.no_grad():  # the model's own decode, same draws: what the tokenizer denormalises
        decoded = tokenizer.model.decode_tokens(tokens, timesteps=4, scheduler=DDIMScheduler(
            tokenizer.model.scheduler_config), generator=torch.Generator().manual_seed(1234), image_size=16)
    # x·std + mean: two roundings relative to |x·std| + mean ≤ 1 (the fixture decode itself: test_fixture_divae).
    assert_within_float32_bound("image", image, None, decoded.double() * 0.5 + 0.5, rounding_bound(2, 1.0))
    assert image.min() >= 0.0 and image.max() <= 1.0


def test_global_tokenizer_accepts_one_id_per_head(checkpoints, tok_io):
    tokenizer = load_tokenizer(checkpoints["global_tiny"])
    tokens = tokenizer.tokenize(tok_io["global_tiny.in"])
    assert tokens.shape == (2, 4, 1, 1)
    decoded = tokenizer.detokenize(tokens.flatten(1))
    with torch.no_grad():  # the same ids decoded by the model: the same float32 operations, so the same bits
        assert torch.equal(decoded, tokenizer.model.decode_tokens(tokens))


@pytest.mark.parametrize(("name", "data", "message"), [
    ("sam_tiny", torch.zeros(1, 3, 16, 16),
     r"expected a torch.float32 tensor \(B, 1, H, W\), found .* \(1, 3, 16, 16\)"),
    ("sam_tiny", torch.zeros(1, 1, 18, 16), r"multiples of the patch size 4, found \(18, 16\)"),
    ("semseg_tiny", torch.full((1, 16, 16), 7), r"expected labels in \[0, 6\), found \[7, 7\]"),
    ("global_tiny", torch.zeros(2, 24, 2, 2), r"expected a global vector \(B, 24, 1, 1\), found shape"),
    ("featmap_tiny", torch.zeros(1, 16, 8, 8, dtype=torch.int64), r"expected a torch.float32 tensor"),
    ("featmap_tiny", torch.zeros(1, 16, 8, 8, dtype=torch.float64), r"found torch.float64 of shape"),
])
def test_wrong_inputs_name_the_tokenizer_expected_and_found(name, data, message, checkpoints):
    tokenizer = load_tokenizer(checkpoints[name])
    with pytest.raises(TokenizerInputError, match=message):
        tokenizer.tokenize(data)


@pytest.mark.parametrize(("name", "ids", "message"), [
    ("sam_tiny", torch.full((1, 4, 4), 16), r"expected token ids in \[0, 16\), found \[16, 16\]"),
    ("global_tiny", torch.zeros(1, 4, 2, 1, dtype=torch.int64), r"expected integer token ids \(B, 4, 1, 1\)"),
    ("featmap_tiny", torch.zeros(1, 5, dtype=torch.int64), "need a square number of tokens, found 5"),
    ("featmap_tiny", torch.zeros(1, 2, 2), r"expected integer token ids \(B, h, w\), found torch.float32"),
])
def test_bad_token_ids_are_rejected_before_decoding(name, ids, message, checkpoints):
    with pytest.raises(TokenizerInputError, match=message):
        load_tokenizer(checkpoints[name]).detokenize(ids)


def test_divae_rejects_an_image_size_the_unet_cannot_halve(checkpoints, tok_io):
    tokenizer = load_tokenizer(checkpoints["divae_tiny"])
    with pytest.raises(TokenizerInputError, match="expected an image size divisible by 8, found 12"):
        tokenizer.detokenize(tok_io["divae_tiny.in16.tokens"], steps=2, image_size=12)
