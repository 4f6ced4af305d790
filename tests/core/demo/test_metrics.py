"""The demo's metrics on hand-made cases, and the colour reading on rendered scenes."""

from __future__ import annotations

import math

import pytest
import torch

from mm4m.core.data.synthetic import OBJECT_COLOURS, SceneConfig, render_scenes
from mm4m.core.demo import metrics


def test_depth_rmse_is_the_root_mean_square_error():
    truth = torch.zeros(2, 1, 2, 2)
    predicted = torch.tensor([1.0, 1.0, 1.0, 1.0, 3.0, 3.0, 3.0, 3.0]).reshape(2, 1, 2, 2)
    assert metrics.depth_rmse(predicted, truth) == pytest.approx(math.sqrt(5))
    assert metrics.depth_rmse(truth, truth) == 0


def test_pixel_accuracy_and_mean_iou_pool_over_the_set():
    truth = torch.tensor([[[0, 0], [1, 1]]])
    predicted = torch.tensor([[[0, 0], [0, 1]]])
    assert metrics.pixel_accuracy(predicted, truth) == pytest.approx(0.75)
    # class 0: 2 / 3, class 1: 1 / 2
    assert metrics.mean_iou(predicted, truth) == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert metrics.mean_iou(truth, truth) == 1.0


def test_mean_iou_counts_classes_only_predicted():
    truth = torch.zeros(1, 2, 2, dtype=torch.long)
    predicted = torch.tensor([[[0, 0], [0, 2]]])
    assert metrics.mean_iou(predicted, truth) == pytest.approx((3 / 4 + 0) / 2)


def test_token_accuracy_compares_positions_of_the_truth():
    truth = [[5, 6, 7, 3], [5, 3]]
    predicted = [[5, 6, 8, 3, 9], [5]]
    assert metrics.token_accuracy(predicted, truth) == pytest.approx(4 / 6)
    with pytest.raises(ValueError, match="as many predictions"):
        metrics.token_accuracy([[1]], truth)


def test_psnr_of_a_uniform_error():
    truth = torch.zeros(3, 3, 4, 4)
    assert metrics.psnr(truth + 0.1, truth) == pytest.approx(20.0)
    assert metrics.psnr(truth + 2.0, truth) == pytest.approx(0.0)  # predictions are clamped to [0, 1]


@pytest.mark.parametrize("name", metrics.CHROMATIC_COLOURS)
def test_a_shaded_albedo_reads_as_its_colour(name):
    image = torch.full((3, 16, 16), 0.4)
    albedo = torch.tensor(OBJECT_COLOURS[name])
    image[:, 4:12, 4:12] = albedo[:, None, None] * torch.linspace(0.3, 0.9, 8)[None, :, None]
    assert metrics.shown_colours(image) == {name}


def test_grey_and_white_show_no_colour():
    assert metrics.shown_colours(torch.full((3, 8, 8), 0.5)) == set()
    white = torch.tensor(OBJECT_COLOURS["white"])[:, None, None].expand(3, 8, 8)
    assert metrics.shown_colours(white) == set()


def test_colour_f1_of_rendered_scenes_against_their_own_objects_is_near_one():
    batch = render_scenes(24, SceneConfig(image_size=64, max_objects=3, layout_grid=2), seed=3)
    named = [{obj.colour for obj in record.objects if obj.pixel_count >= 32} for record in batch.records]
    assert metrics.colour_f1(batch.rgb, named) > 0.9
    assert metrics.colour_f1(batch.rgb.mean(dim=0, keepdim=True).expand_as(batch.rgb), named) < 0.2


def test_colour_f1_penalises_missing_and_extra_colours():
    red = torch.tensor(OBJECT_COLOURS["red"])[:, None, None].expand(3, 8, 8)
    assert metrics.colour_f1(red[None], [{"red"}]) == 1.0
    assert metrics.colour_f1(red[None], [{"blue"}]) == 0.0
    assert metrics.colour_f1(red[None], [{"red", "blue"}]) == pytest.approx(2 / 3)
    assert metrics.colour_f1(red[None], [{"white"}]) == 0.0  # white is not scored; red is an extra colour
