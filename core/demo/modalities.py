"""The demo's own modalities, registered in-process with `mm4m.register_modality` (the registry showcase).

The first-party specs are 224-px with 4k–16k-entry vocabularies; the demo declares small ones instead: RGB pixels
as the encoder's image input, 8×8 token grids for RGB, depth and semantic labels (patch 8 at 64 px), and a
caption over a WordPiece vocabulary fitted on the scenes' captions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import mm4m
from mm4m.core.spec import ModalitySpec
from mm4m.registry.default import get_registry

CAPTION_KEY = "scene_caption"
CAPTION_MAX_TOKENS = 32
"""Caption tokens (with [EOS]); the demo's captions name at most three objects (≤ 20 tokens)."""
PIXEL_MEAN_STD = (0.5, 0.5)
DEPTH_MEAN, DEPTH_STD, DEPTH_LIMIT = 7.0, 4.0, 50.0
"""Depth (scene units) is standardised with fixed constants, so decoded depth keeps its absolute scale."""


class DemoModalityError(RuntimeError):
    """A demo key is already provided (by a plugin or an in-process registration), so the demo cannot declare it."""


@dataclass(frozen=True)
class DemoKeys:
    """The modality keys of one image size."""

    rgb: str
    tok_rgb: str
    tok_depth: str
    tok_semseg: str
    caption: str = CAPTION_KEY

    @classmethod
    def for_size(cls, image_size: int) -> DemoKeys:
        return cls(f"rgb@{image_size}", f"tok_rgb@{image_size}", f"tok_depth@{image_size}",
                   f"tok_semseg@{image_size}")

    @property
    def image_targets(self) -> tuple[str, str, str]:
        return self.tok_rgb, self.tok_depth, self.tok_semseg

    @property
    def inputs(self) -> list[str]:
        return [self.rgb, *self.image_targets, self.caption]

    @property
    def targets(self) -> list[str]:
        return [*self.image_targets, self.caption]


def demo_specs(image_size: int, patch_size: int, codebook_size: int, text_vocab_size: int) -> list[dict]:
    """Spec dicts of the five demo modalities."""
    keys = DemoKeys.for_size(image_size)
    mean, std = PIXEL_MEAN_STD
    grid = {"kind": "image_tokens", "vocab_size": codebook_size, "patch_size": patch_size, "input_size": image_size,
            "positional_embedding": "sincos_2d", "decoding": "roar"}
    return [
        {"key": keys.rgb, "kind": "image_pixels", "summary": "demo RGB pixels", "channels": 3,
         "patch_size": patch_size, "input_size": image_size, "positional_embedding": "sincos_2d",
         "can_be_target": False, "tokenizer": {"family": "none"},
         "normalization": {"method": "mean_std", "mean": [mean] * 3, "std": [std] * 3, "value_range": [0, 1]}},
        {**grid, "key": keys.tok_rgb, "summary": "demo RGB as VQ-VAE tokens",
         "tokenizer": {"family": "vqvae", "id": "mm4m-demo-rgb"},
         "normalization": {"method": "mean_std", "mean": [mean] * 3, "std": [std] * 3, "value_range": [0, 1]}},
        {**grid, "key": keys.tok_depth, "summary": "demo z-depth (scene units) as VQ-VAE tokens",
         "tokenizer": {"family": "vqvae", "id": "mm4m-demo-depth"},
         "normalization": {"method": "mean_std", "mean": [DEPTH_MEAN], "std": [DEPTH_STD],
                           "value_range": [0, DEPTH_LIMIT]}},
        {**grid, "key": keys.tok_semseg, "summary": "demo semantic labels as VQ-VAE tokens",
         "tokenizer": {"family": "vqvae", "id": "mm4m-demo-semseg"},
         "normalization": {"method": "label_shift", "value_range": [0, 255]}},
        {"key": keys.caption, "kind": "text_sequence", "summary": "demo scene caption (small WordPiece)",
         "vocab_size": text_vocab_size, "max_tokens": CAPTION_MAX_TOKENS, "positional_embedding": "sincos_1d",
         "decoding": "autoregressive", "tokenizer": {"family": "wordpiece", "id": "mm4m-demo-wordpiece"}},
    ]


@contextmanager
def demo_modalities(image_size: int, patch_size: int, codebook_size: int,
                    text_vocab_size: int) -> Iterator[dict[str, ModalitySpec]]:
    """Register the demo keys for the duration of the block (yielding their specs), then unregister them."""
    registry = get_registry()
    taken = [key for key in DemoKeys.for_size(image_size).inputs if key in registry]
    if taken:
        raise DemoModalityError(f"modality '{taken[0]}' is already provided by {registry.provider(taken[0])}; the "
                                f"demo declares its own (disable that plugin with MM4M_PLUGINS=no:NAME)")
    registered = []
    try:
        for spec in demo_specs(image_size, patch_size, codebook_size, text_vocab_size):
            registered.append(mm4m.register_modality(spec).spec)
        yield {spec.key: spec for spec in registered}
    finally:
        for spec in registered:
            registry.unregister(spec.key)
