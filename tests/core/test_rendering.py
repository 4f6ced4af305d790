"""``render``: each modality's data drawn as its visual, chosen from the spec; clear errors for wrong data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from mm4m.core.render import RenderError, Visual, render, save_png, visual_for
from mm4m.core.render.colors import UNLABELLED_COLOR, label_color
from mm4m.core.tokenizers.serializers import Detections
from mm4m.registry.default import get_registry


@pytest.mark.parametrize(("key", "visual"), [
    ("rgb@224", Visual.IMAGE), ("tok_rgb@224", Visual.IMAGE), ("tok_normal@224", Visual.IMAGE),
    ("tok_canny_edge@224", Visual.IMAGE), ("tok_depth@224", Visual.DEPTH), ("tok_semseg@224", Visual.LABELS),
    ("tok_clip@224", Visual.FEATURES), ("tok_dinov2@224", Visual.FEATURES), ("tok_dinov2_global", Visual.VECTOR),
    ("t5_caption", Visual.VECTOR), ("det", Visual.BOXES), ("caption", Visual.TEXT), ("metadata", Visual.TEXT),
])
def test_the_visual_follows_the_spec(key, visual):
    assert visual_for(get_registry().spec(key)) is visual


def test_images_and_normals_keep_their_pixels():
    pixels = torch.rand(1, 3, 5, 7)
    picture = np.asarray(render(pixels, "tok_normal@224"))
    assert picture.shape == (5, 7, 3)
    assert np.array_equal(picture, np.rint(pixels[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8))
    assert render(torch.full((1, 4, 4), 2.0), "tok_canny_edge@224").getpixel((0, 0)) == 255


def test_depth_colour_map_runs_dark_to_bright_with_distance():
    ramp = torch.linspace(0, 1, 16).repeat(4, 1)[None]
    picture = np.asarray(render(ramp, "tok_depth@224")).astype(int)
    brightness = picture.sum(axis=2)[0]
    assert brightness[0] < brightness[-1] and picture.shape == (4, 16, 3)
    assert (render(torch.full((1, 3, 3), 7.0), "tok_depth@224").getpixel((1, 1))
            == render(torch.full((1, 3, 3), -2.0), "tok_depth@224").getpixel((1, 1)))


@given(st.lists(st.integers(0, 255), min_size=1, max_size=12))
def test_semseg_palette_gives_each_class_its_own_colour(labels):
    label_map = torch.tensor(labels)[None]
    picture = render(label_map, "tok_semseg@224")
    colours = [picture.getpixel((i, 0)) for i in range(len(labels))]
    for label, colour in zip(labels, colours):
        assert colour == (UNLABELLED_COLOR if label == 255 else label_color(label))
    assert len(set(colours)) == len(set(labels))


def test_label_colours_are_distinct_for_every_coco_class():
    assert len({label_color(label) for label in range(255)}) == 255


def test_feature_maps_show_their_principal_structure():
    left_right = torch.linspace(-1, 1, 8).repeat(8, 1)
    features = torch.stack([left_right * w for w in torch.randn(16)])
    picture = np.asarray(render(features, "tok_clip@224")).astype(int)
    assert picture.shape == (8, 8, 3)
    assert (picture[:, 0] == picture[0, 0]).all() and not (picture[0, 0] == picture[0, -1]).all()


def test_vectors_become_heat_maps():
    assert render(torch.randn(1, 32, 1, 1), "tok_dinov2_global").size == (16 * 8, 2 * 8)
    assert render(torch.randn(5, 12), "t5_caption").size == (12 * 8, 5 * 8)


def test_text_is_set_as_text():
    short, long = render("a dog", "caption"), render("a dog " * 30, "caption")
    assert long.size[1] > short.size[1]
    assert min(np.asarray(short.convert("L")).ravel()) < 128  # some ink on the page


def test_detections_are_drawn_on_the_given_image():
    detections = {"instances": [{"box": {"xmin": 0.0, "ymin": 0.0, "xmax": 1.0, "ymax": 1.0},
                                 "class_name": "dog"}]}
    picture = render(detections, "det", background=torch.zeros(3, 40, 40))
    assert picture.size == (40, 40)
    assert picture.getpixel((39, 20)) == label_color(sum(map(ord, "dog")))
    assert picture.getpixel((20, 20)) == (0, 0, 0)
    assert render(Detections(), "det").size == (256, 256)


@pytest.mark.parametrize(("key", "data", "message"), [
    ("tok_rgb@224", torch.rand(2, 3, 4, 4), (r"'tok_rgb@224' \(image\): expected one sample as \(1 or 3, H, W\) "
                                             r"values in \[0, 1\], found float32 of shape \(2, 3, 4, 4\)")),
    ("tok_semseg@224", torch.rand(4, 4), "expected one sample as an integer \\(H, W\\) label map, found float32"),
    ("tok_depth@224", torch.rand(3, 4, 4), "expected one sample as \\(1, H, W\\) or \\(H, W\\)"),
    ("caption", 42, "expected a string or a structured record, found int"),
])
def test_data_that_does_not_fit_the_visual_is_refused(key, data, message):
    with pytest.raises(RenderError, match=message):
        render(data, key)


def test_save_png_writes_atomically(tmp_path):
    path = save_png(render(torch.rand(3, 4, 4), "tok_rgb@224"), tmp_path / "sub" / "picture.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (4, 4)
    assert sorted(p.name for p in path.parent.iterdir()) == ["picture.png"]
