"""The preview sheet shows each modality of each scene at the requested scale."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from mm4m.core.data.synthetic import SceneConfig, render_scenes
from mm4m.core.data.synthetic.preview import COLUMNS, TEXT_HEIGHT, save_preview_grid


def test_preview_sheet_has_one_row_per_scene_showing_its_modalities(tmp_path):
    batch = render_scenes(3, SceneConfig(image_size=16), seed=7)
    path = save_preview_grid(batch, tmp_path / "sheet.png", scenes=2, scale=2)
    sheet = torch.from_numpy(np.array(Image.open(path).convert("RGB")))
    tile = 32
    assert sheet.shape == (TEXT_HEIGHT + 2 * (tile + TEXT_HEIGHT), tile * len(COLUMNS), 3)
    for scene in range(2):
        top = TEXT_HEIGHT + scene * (tile + TEXT_HEIGHT)

        def tile_pixels(name: str) -> torch.Tensor:
            """The tile of column ``name`` in this row, sampled once per source pixel."""
            left = COLUMNS.index(name) * tile
            return sheet[top:top + tile:2, left:left + tile:2]

        expected_rgb = (batch.rgb[scene].permute(1, 2, 0) * 255).round().to(torch.uint8)
        assert torch.equal(tile_pixels("rgb"), expected_rgb)
        assert torch.equal(tile_pixels("canny edges")[..., 0] > 127, batch.canny_edges[scene])
        assert torch.equal(tile_pixels("sam edges")[..., 0] > 127, batch.sam_edges[scene])
