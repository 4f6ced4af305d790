"""The tokenizer fixtures' test-only presets (``manifest["presets"]``), registered so the tiny checkpoints load."""

from __future__ import annotations

from mm4m.core.tokenizers.neural import UNetPreset, ViTPreset, register_unet_preset, register_vit_preset


def register_presets(manifest: dict) -> None:
    """Register every preset of the fixture manifest (UNet ones by their class, the rest as ViTs)."""
    for name, preset in manifest["presets"].items():
        if preset["class"] == "unet.PatchedUNetCondCat":
            register_unet_preset(name, UNetPreset(
                patch_size=preset["patch_size"], model_channels=preset["model_channels"],
                num_res_blocks=preset["num_res_blocks"], attention_resolutions=tuple(preset["attention_resolutions"]),
                channel_mult=tuple(preset["channel_mult"])))
        else:
            register_vit_preset(name, ViTPreset(dim=preset["dim_tokens"], depth=preset["depth"],
                                                heads=preset["num_heads"]))
