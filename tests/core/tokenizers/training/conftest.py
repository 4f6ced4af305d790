"""Small synthetic training sets: smooth random colour blobs, blob label maps and clustered embedding vectors."""

from __future__ import annotations

import pytest
import torch


def make_blob_images(count: int, size: int = 16, seed: int = 0) -> torch.Tensor:
    """(count, 3, size, size) images in [0, 1]: three soft Gaussian blobs of random colour on black."""
    generator = torch.Generator().manual_seed(seed)
    ys, xs = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    images = torch.zeros(count, 3, size, size)
    for image in images:
        for _ in range(3):
            cx, cy = torch.rand(2, generator=generator)
            radius = 0.15 + 0.2 * torch.rand(1, generator=generator)
            weight = torch.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius**2))
            image.mul_(1 - weight).add_(torch.rand(3, 1, 1, generator=generator) * weight)
    return images.clamp(0, 1)


def make_blob_labels(count: int, size: int = 16, classes: int = 4, seed: int = 0) -> torch.Tensor:
    """(count, size, size) int64 COCO-style label maps: the strongest blob's class, 255 where no blob reaches."""
    strength = make_blob_images(count, size, seed)  # the three colour channels act as three blob classes
    labels = strength.argmax(dim=1) % classes
    return torch.where(strength.amax(dim=1) < 0.2, torch.full_like(labels, 255), labels)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Keep training runs on one core (the suite shares two). Module-scoped, so module fixtures that train
    (a reference run compared bitwise with a resumed one) run under it too: another thread count splits
    reductions differently and changes the last bits."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def blob_images():
    """Factory of smooth random colour-blob images (see `make_blob_images`)."""
    return make_blob_images


@pytest.fixture(scope="session")
def blob_labels():
    """Factory of blob label maps (see `make_blob_labels`)."""
    return make_blob_labels
