"""Named architectures (`enc_type` / `dec_type` values) and the parser of the `BottleneckMLP/...` ids.

The reference's presets are built in; test-only presets (the fixtures' tiny models) are registered at run time.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from mm4m.core.tokenizers.neural.errors import TokenizerConfigError


class _Preset(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ViTPreset(_Preset):
    """A ViT encoder/decoder size: width, number of blocks and attention heads."""

    dim: int = Field(gt=0)
    depth: int = Field(gt=0)
    heads: int = Field(gt=0)


class UNetPreset(_Preset):
    """A patched diffusion UNet (§5.1): patching, widths per level, blocks per level, attention levels (as ds)."""

    patch_size: int = Field(gt=0)
    model_channels: int = Field(gt=0)
    num_res_blocks: int = Field(gt=0)
    attention_resolutions: tuple[int, ...]
    channel_mult: tuple[int, ...]


class MLPPreset(_Preset):
    """A bottleneck MLP: ``blocks`` residual blocks of width ``width`` expanding to ``expansion · width``."""

    blocks: int = Field(gt=0)
    width: int = Field(gt=0)
    expansion: int = Field(default=4, gt=0)


VIT_PRESETS: dict[str, ViTPreset] = {
    f"vit_{size}_{side}": ViTPreset(dim=dim, depth=depth, heads=heads)
    for size, (dim, depth, heads) in {"tiny": (32, 2, 4), "s": (512, 8, 8), "b": (768, 12, 12),
                                      "l": (1024, 24, 16)}.items()
    for side in ("enc", "dec")
}
"""ViT sizes by ``enc_type`` / ``dec_type``; ``vit_tiny_*`` is the size tests and `mm4m tokenizer train --size tiny` use."""
UNET_PRESETS: dict[str, UNetPreset] = {
    "unet_patched": UNetPreset(patch_size=4, model_channels=256, num_res_blocks=3, attention_resolutions=(4, 8),
                               channel_mult=(1, 2, 2, 2)),
}
_MLP_ID = re.compile(r"^BottleneckMLP/B_(?P<blocks>\d+)-Wi_(?P<width>\d+)(?:-E_(?P<expansion>\d+))?$")


def register_vit_preset(name: str, preset: ViTPreset) -> None:
    """Make ``name`` usable as an ``enc_type`` / ``dec_type`` (e.g. the fixtures' ``vit_tiny_enc``)."""
    VIT_PRESETS[name] = preset


def register_unet_preset(name: str, preset: UNetPreset) -> None:
    """Make ``name`` usable as a DiVAE ``dec_type`` (e.g. the fixtures' ``unet_patched_tiny``)."""
    UNET_PRESETS[name] = preset


def parse_mlp_id(model_id: str) -> MLPPreset | None:
    """``BottleneckMLP/B_6-Wi_1024[-E_4]`` → its preset; None when ``model_id`` is not an MLP id at all."""
    if not model_id.startswith("BottleneckMLP/"):
        return None
    match = _MLP_ID.match(model_id)
    if match is None:
        raise TokenizerConfigError(
            f"MLP architecture id: expected 'BottleneckMLP/B_<blocks>-Wi_<width>[-E_<expansion>]', found {model_id!r}")
    return MLPPreset(**{k: int(v) for k, v in match.groupdict().items() if v is not None})


def known_architectures() -> list[str]:
    """All accepted architecture names, for error messages."""
    return sorted(VIT_PRESETS) + sorted(UNET_PRESETS) + ["BottleneckMLP/B_<n>-Wi_<w>[-E_<e>]"]
