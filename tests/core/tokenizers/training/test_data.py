"""Training data directories: PNG / .npy samples per layout, in file-name order, with errors naming the file."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from mm4m.core.tokenizers.training import SampleError, SampleLayout, layout_for, load_samples, read_sample
from mm4m.registry.default import get_registry


def test_layouts_follow_the_modality_spec():
    registry = get_registry()
    assert layout_for(registry.spec("tok_rgb@224")) is SampleLayout.IMAGE
    assert layout_for(registry.spec("tok_depth@224")) is SampleLayout.IMAGE
    assert layout_for(registry.spec("tok_semseg@224")) is SampleLayout.LABELS
    assert layout_for(registry.spec("tok_clip@224")) is SampleLayout.EMBEDDING
    assert layout_for(registry.spec("tok_dinov2_global")) is SampleLayout.EMBEDDING
    with pytest.raises(SampleError, match="'caption' holds text_sequence data"):
        layout_for(registry.spec("caption"))


def test_png_images_are_scaled_to_unit_range(tmp_path):
    rgb = np.arange(4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 3) * 5
    Image.fromarray(rgb).save(tmp_path / "a.png")
    depth = np.array([[0, 65535], [32768, 1000]], dtype=np.uint16)
    Image.fromarray(depth).save(tmp_path / "d.png")
    image = read_sample(tmp_path / "a.png", SampleLayout.IMAGE)
    assert image.shape == (3, 4, 4) and torch.allclose(image, torch.from_numpy(rgb).permute(2, 0, 1) / 255.0)
    depth_sample = read_sample(tmp_path / "d.png", SampleLayout.IMAGE)
    assert depth_sample.shape == (1, 2, 2) and depth_sample.max() == 1.0 and depth_sample.min() == 0.0


def test_label_pngs_and_arrays_keep_class_indices(tmp_path):
    labels = np.array([[0, 3], [255, 7]], dtype=np.uint8)
    Image.fromarray(labels, mode="L").save(tmp_path / "l.png")
    np.save(tmp_path / "l.npy", labels.astype(np.int32))
    for name in ("l.png", "l.npy"):
        sample = read_sample(tmp_path / name, SampleLayout.LABELS)
        assert sample.dtype == torch.int64 and sample.tolist() == labels.tolist()


def test_global_vectors_become_one_by_one_maps(tmp_path):
    np.save(tmp_path / "v.npy", np.arange(6, dtype=np.float32))
    assert read_sample(tmp_path / "v.npy", SampleLayout.EMBEDDING).shape == (6, 1, 1)


def test_samples_are_stacked_in_file_name_order(tmp_path):
    for index in (2, 0, 1):
        np.save(tmp_path / f"{index:02d}.npy", np.full((3, 2, 2), index / 10, dtype=np.float32))
    (tmp_path / "notes.txt").write_text("ignored")
    stacked = load_samples(tmp_path, SampleLayout.IMAGE)
    assert stacked.shape == (3, 3, 2, 2) and stacked[:, 0, 0, 0].tolist() == pytest.approx([0.0, 0.1, 0.2])


def test_a_sample_of_another_shape_is_named(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((3, 4, 4), dtype=np.float32))
    np.save(tmp_path / "b.npy", np.zeros((3, 8, 8), dtype=np.float32))
    with pytest.raises(SampleError, match=r"b\.npy: expected the shape \(3, 4, 4\) of a\.npy, found \(3, 8, 8\)"):
        load_samples(tmp_path, SampleLayout.IMAGE)


@pytest.mark.parametrize(("name", "layout", "message"), [
    ("rgb.png", SampleLayout.LABELS, "expected a class-index PNG \\(mode L or P\\), found mode RGB"),
    ("rgb.png", SampleLayout.EMBEDDING, "embeddings are read from .npy arrays, found a PNG"),
    ("ints.npy", SampleLayout.IMAGE, "expected a float array, found int64"),
    ("broken.png", SampleLayout.IMAGE, "not a readable PNG"),
    ("data.jpg", SampleLayout.IMAGE, "expected a .png or .npy file, found suffix '.jpg'"),
])
def test_unreadable_samples_name_the_file_and_the_problem(tmp_path, name, layout, message):
    Image.new("RGB", (2, 2)).save(tmp_path / "rgb.png")
    np.save(tmp_path / "ints.npy", np.zeros((3, 2, 2), dtype=np.int64))
    (tmp_path / "broken.png").write_bytes(b"not a png")
    (tmp_path / "data.jpg").write_bytes(b"")
    with pytest.raises(SampleError, match=message):
        read_sample(tmp_path / name, layout)


def test_empty_and_missing_directories_are_errors(tmp_path):
    with pytest.raises(SampleError, match="expected .png or .npy sample files, found none"):
        load_samples(tmp_path, SampleLayout.IMAGE)
    with pytest.raises(SampleError, match="not found"):
        load_samples(tmp_path / "absent", SampleLayout.IMAGE)
