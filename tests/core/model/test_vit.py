"""FourMViT: the RGB encoder of a full 4M checkpoint as a backbone (spec §6)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mm4m.core.model.fourm import FourM, ModelBuildError
from mm4m.core.model.vit import FourMViT
from mm4m.testing.numerics import assert_within_float32_bound, in_float64, rounding_bound, traced_reduction_length


@pytest.fixture(scope="module")
def checkpoint(golden_checkpoints):
    return golden_checkpoints["gelu_qknorm"]


def test_features_equal_the_4m_encoder_on_a_fully_visible_image(checkpoint):
    vit, full = FourMViT.from_pretrained(checkpoint), FourM.from_pretrained(checkpoint)
    assert set(vit.state_dict()) < set(full.state_dict())
    image = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    mod_dict = {"rgb@224": {"tensor": image, "input_mask": torch.zeros(2, 196, dtype=torch.bool)}}
    with torch.no_grad():
        features = vit(image)
        reference = full.forward_encoder(mod_dict, 196).output
    assert features.shape == (2, 196, 32)
    # Two code paths over the same float32 weights: both within the encoder's float32 bound of its float64 run
    # (every layer's reduction plus attention over the 196 tokens, relative to each token's largest feature).
    truth = in_float64(vit, image)
    bound = rounding_bound(traced_reduction_length(vit, image), truth.abs().amax(-1, keepdim=True))
    assert_within_float32_bound("features", features, reference, truth, bound)


def test_output_head_and_optional_norm(checkpoint):
    head = nn.Sequential(nn.Flatten(1), nn.LazyLinear(5))
    vit = FourMViT.from_pretrained(checkpoint, use_norm=False, output_head=head)
    assert "encoder_norm.weight" not in vit.state_dict()
    with torch.no_grad():
        assert vit(torch.zeros(1, 3, 224, 224)).shape == (1, 5)


def test_needs_rgb_among_inputs():
    with pytest.raises(ModelBuildError, match="needs 'rgb@224' among domains_in"):
        FourMViT({"domains_in": ["caption"], "domains_out": ["caption"], "dim": 32, "num_heads": 4})


def test_wrong_image_size_names_the_shape(checkpoint):
    vit = FourMViT.from_pretrained(checkpoint)
    with pytest.raises(ValueError, match=r"rgb@224.*\(B, 3, 224, 224\).*\(1, 3, 200, 200\)"):
        vit(torch.zeros(1, 3, 200, 200))
