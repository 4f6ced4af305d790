"""Instance boundaries and Canny edges of the synthetic-scene renderer."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from mm4m.core.data.synthetic import CannyConfig
from mm4m.core.data.synthetic.edges import canny_edges, hysteresis, instance_boundaries

CANNY = CannyConfig(low_threshold=0.01, high_threshold=0.1)


@st.composite
def label_maps(draw: st.DrawFn) -> torch.Tensor:
    """(1, H, W) maps of labels 0 … 3."""
    height, width = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    values = draw(st.lists(st.integers(0, 3), min_size=height * width, max_size=height * width))
    return torch.tensor(values).view(1, height, width)


@given(label_maps())
def test_instance_boundaries_mark_pixels_with_a_differently_labelled_4_neighbour(labels):
    _, height, width = labels.shape
    label = labels[0].tolist()
    expected = torch.zeros_like(labels, dtype=torch.bool)
    for row in range(height):
        for column in range(width):
            for other_row, other_column in ((row - 1, column), (row + 1, column), (row, column - 1), (row, column + 1)):
                if 0 <= other_row < height and 0 <= other_column < width:
                    expected[0, row, column] |= label[row][column] != label[other_row][other_column]
    assert torch.equal(instance_boundaries(labels), expected)


def step_image(size: int, position: int, before: float, after: float, vertical: bool) -> torch.Tensor:
    """(1, size, size) image whose value changes from ``before`` to ``after`` at column (or row) ``position``."""
    image = torch.full((1, size, size), before)
    if vertical:
        image[:, :, position:] = after
    else:
        image[:, position:, :] = after
    return image


@given(size=st.integers(8, 24), data=st.data(), levels=st.tuples(st.floats(0, 1), st.floats(0, 1)),
       vertical=st.booleans())
def test_a_strong_step_gives_one_complete_one_pixel_line_beside_the_step(size, data, levels, vertical):
    before, after = levels
    position = data.draw(st.integers(2, size - 2))
    edges = canny_edges(step_image(size, position, before, after, vertical), CANNY)[0]
    if abs(before - after) < 0.5:
        return
    across = edges if vertical else edges.T
    assert (across.sum(dim=1) == 1).all(), "one edge pixel across the step, in every line along it"
    assert across[:, position - 1:position + 1].all(dim=0).any(), "the edge runs straight beside the step"


@given(size=st.integers(8, 24), level=st.floats(0, 1))
def test_a_uniform_image_has_no_edges(size, level):
    assert not canny_edges(torch.full((2, size, size), level), CANNY).any()


@st.composite
def strong_and_weak_masks(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor]:
    """Random (2, H, W) weak masks with a random subset of their pixels marked strong."""
    height, width = draw(st.integers(1, 10)), draw(st.integers(1, 10))
    cells = 2 * height * width
    weak = torch.tensor(draw(st.lists(st.booleans(), min_size=cells, max_size=cells))).view(2, height, width)
    chosen = torch.tensor(draw(st.lists(st.booleans(), min_size=cells, max_size=cells))).view(2, height, width)
    return weak & chosen, weak


def flood_fill(strong: torch.Tensor, weak: torch.Tensor) -> torch.Tensor:
    """Reference: weak pixels reachable from a strong pixel by 8-connected steps through weak pixels."""
    reached = strong.clone()
    frontier = [tuple(index) for index in torch.nonzero(strong).tolist()]
    while frontier:
        image, row, column = frontier.pop()
        for step_row in (-1, 0, 1):
            for step_column in (-1, 0, 1):
                neighbour = (image, row + step_row, column + step_column)
                if (0 <= neighbour[1] < weak.shape[1] and 0 <= neighbour[2] < weak.shape[2]
                        and weak[neighbour] and not reached[neighbour]):
                    reached[neighbour] = True
                    frontier.append(neighbour)
    return reached


@given(strong_and_weak_masks())
def test_hysteresis_keeps_exactly_the_weak_pixels_connected_to_a_strong_one(masks):
    strong, weak = masks
    assert torch.equal(hysteresis(strong, weak), flood_fill(strong, weak))
