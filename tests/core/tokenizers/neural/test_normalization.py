"""Raw-input contracts: mean/std round trips, label shift with wrap-around, truncated standardisation, errors."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mm4m.core.spec import InputNormalization
from mm4m.core.tokenizers.neural import TokenizerInputError
from mm4m.core.tokenizers.neural.normalization import InputNormalizer, truncated_standardize

HALF = InputNormalization(method="mean_std", mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
LABELS = InputNormalization(method="label_shift", value_range=(0.0, 255.0))
DEPTH = InputNormalization(method="truncated_standardization", value_range=(0.0, 1.0))


@settings(max_examples=50)
@given(seed=st.integers(0, 2**16), batch=st.integers(1, 3), side=st.integers(1, 6))
def test_mean_std_maps_unit_images_to_plus_minus_one_and_back(seed, batch, side):
    raw = torch.rand(batch, 3, side, side, generator=torch.Generator().manual_seed(seed))
    norm = InputNormalizer(HALF, owner="t")
    x = norm.normalize(raw)
    assert x.min() >= -1.0 and x.max() <= 1.0
    torch.testing.assert_close(norm.denormalize(x), raw, atol=1e-6, rtol=0.0)


@settings(max_examples=50)
@given(labels=st.lists(st.integers(0, 255), min_size=1, max_size=32))
def test_label_shift_wraps_unlabelled_to_zero_and_inverts_on_the_argmax(labels):
    raw = torch.tensor(labels).view(1, 1, -1)
    norm = InputNormalizer(LABELS, owner="t")
    shifted = norm.normalize(raw)
    assert torch.equal(shifted, (raw + 1) % 256)
    logits = torch.nn.functional.one_hot(shifted, 256).permute(0, 3, 1, 2).float()
    assert torch.equal(norm.denormalize(logits), raw)


@settings(max_examples=50)
@given(seed=st.integers(0, 2**16), side=st.integers(4, 12))
def test_truncated_standardisation_centres_the_middle_eighty_percent(seed, side):
    raw = torch.rand(2, 1, side, side, generator=torch.Generator().manual_seed(seed))
    out = truncated_standardize(raw)
    for image, original in zip(out, raw, strict=True):
        values, order = image.flatten().sort()
        n, cut = values.numel(), int(values.numel() * 0.1)
        kept = original.flatten()[order][cut:n - cut]
        torch.testing.assert_close(image.flatten()[order][cut:n - cut].mean(), torch.tensor(0.0), atol=1e-5,
                                   rtol=0.0)
        expected = (original - kept.mean()) / torch.sqrt(kept.var() + 1e-6)
        torch.testing.assert_close(image, expected)


@pytest.mark.parametrize(("normalization", "data", "message"), [
    (HALF, torch.full((1, 3, 2, 2), 1.5), r"tokenizer 'x': expected values in \[0, 1\].*found \[1.5, 1.5\]"),
    (HALF, torch.zeros(1, 1, 2, 2), r"expected \(B, 3, H, W\).*found shape \(1, 1, 2, 2\)"),
    (DEPTH, torch.full((1, 1, 2, 2), float("nan")), "expected finite values"),
    (LABELS, torch.zeros(1, 2, 2), r"expected an integer label map, found torch.float32"),
    (LABELS, torch.full((1, 2, 2), 300), r"expected values in \[0, 255\].*found \[300, 300\]"),
    (InputNormalization(), [0.0], "expected a torch.Tensor, found list"),
])
def test_bad_raw_data_names_the_tokenizer_expected_and_found(normalization, data, message):
    with pytest.raises(TokenizerInputError, match=message):
        InputNormalizer(normalization, owner="tokenizer 'x'").normalize(data)
