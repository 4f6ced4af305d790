"""The demo's data: synthetic scenes rendered by the package itself, a training set and a held-out set."""

from __future__ import annotations

from dataclasses import dataclass

from mm4m.core.data.synthetic import SceneBatch, SceneConfig, render_scenes
from mm4m.core.demo.config import DemoConfig

HELDOUT_SEED_OFFSET = 2**40
"""Held-out scenes use seed + 2⁴⁰: the renderer reads every bit of the seed, so the two sets never share a scene."""


@dataclass(frozen=True)
class DemoScenes:
    """Training scenes (tokenizers and 4M learn from them) and held-out scenes (only evaluated on)."""

    train: SceneBatch
    heldout: SceneBatch


def scene_config(config: DemoConfig) -> SceneConfig:
    """Up to ``max_objects`` fairly large objects on a 2 × 2 layout, so they fill the small images."""
    return SceneConfig(image_size=config.image_size, min_objects=1, max_objects=config.max_objects, layout_grid=2,
                       min_size=0.4, max_size=0.7)


def render_demo_scenes(config: DemoConfig) -> DemoScenes:
    """Render both sets (a pure function of the config)."""
    scenes = scene_config(config)
    return DemoScenes(train=render_scenes(config.train_scenes, scenes, seed=config.seed),
                      heldout=render_scenes(config.heldout_scenes, scenes, seed=config.seed + HELDOUT_SEED_OFFSET))
