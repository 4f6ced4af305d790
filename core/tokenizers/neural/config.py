"""Pydantic configs of the tokenizer classes: the reference constructor arguments with its exact defaults (§1.1).

A released checkpoint stores its config as ``{arg: str(value)}`` in the safetensors metadata; missing arguments take
these defaults and unknown ones are ignored, as the reference does. Architecture names are checked up front.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mm4m.core.spec import TokenizerFamily
from mm4m.core.tokenizers.neural.errors import TokenizerConfigError
from mm4m.core.tokenizers.neural.noise_schedules import alphas_cumprod
from mm4m.core.tokenizers.neural.presets import (
    UNET_PRESETS,
    VIT_PRESETS,
    known_architectures,
    parse_mlp_id,
)

_DIVAE_ONLY_KEYS = frozenset({"num_train_timesteps", "beta_schedule", "prediction_type", "scheduler",
                              "zero_terminal_snr", "thresholding", "conditioning"})


class VQConfig(BaseModel):
    """Encoder + quantizer arguments shared by every tokenizer class (reference ``VQ``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    image_size: int = Field(default=224, gt=0)
    image_size_enc: int | None = Field(default=None, gt=0)
    n_channels: int = Field(default=3, gt=0)
    n_labels: int | None = Field(default=None, gt=0)
    enc_type: str = "vit_b_enc"
    patch_proj: bool = True
    post_mlp: bool = False
    patch_size: int = Field(default=16, gt=0)
    quant_type: Literal["lucid", "memcodes"] = "lucid"
    codebook_size: int = Field(default=16384, gt=0)
    num_codebooks: int = Field(default=1, gt=0)
    latent_dim: int = Field(default=32, gt=0)
    norm_codes: bool = True
    norm_latents: bool = False
    sync_codebook: bool = True
    ema_decay: float = Field(default=0.99, ge=0.0, le=1.0)
    threshold_ema_dead_code: float = Field(default=0.25, ge=0.0)
    code_replacement_policy: Literal["batch_random", "linde_buzo_gray"] = "batch_random"
    commitment_weight: float = 1.0
    kmeans_init: bool = False
    undo_std: bool = False

    @model_validator(mode="after")
    def _supported(self) -> VQConfig:
        _check_architecture("enc_type", self.enc_type)
        if self.quant_type == "lucid" and self.num_codebooks != 1:
            raise ValueError(f"'num_codebooks' must be 1 for the lucid quantizer, found {self.num_codebooks}")
        if self.quant_type == "lucid" and not self.norm_codes:
            raise ValueError("'norm_codes' must be true: only the cosine-similarity (L2-normalised) lucid codebook "
                             "of the released tokenizers is implemented, found false")
        if self.quant_type == "memcodes" and self.latent_dim % self.num_codebooks:
            raise ValueError(f"'latent_dim' {self.latent_dim} must be divisible by 'num_codebooks' "
                             f"{self.num_codebooks} for memcodes")
        return self

    @property
    def encoder_grid(self) -> int:
        """Side of the encoder's stored positional table: ``image_size_enc (or image_size) // patch_size``."""
        return (self.image_size_enc or self.image_size) // self.patch_size

    @property
    def mlp_encoder(self) -> bool:
        """True when the encoder is a bottleneck MLP (global embeddings, poses)."""
        return parse_mlp_id(self.enc_type) is not None


class VQVAEConfig(VQConfig):
    """Feed-forward decoder tokenizer (reference ``VQVAE``): ViT or MLP decoder after ``post_quant_proj``."""

    dec_type: str = "vit_b_dec"
    out_conv: bool = False
    image_size_dec: int | None = Field(default=None, gt=0)
    patch_size_dec: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _decoder_supported(self) -> VQVAEConfig:
        _check_architecture("dec_type", self.dec_type)
        return self

    @property
    def decoder_patch(self) -> int:
        """Decoder patch size (defaults to the encoder's)."""
        return self.patch_size_dec or self.patch_size

    @property
    def decoder_grid(self) -> int:
        """Side of the decoder's stored positional table."""
        return (self.image_size_dec or self.image_size) // self.decoder_patch

    @property
    def family(self) -> TokenizerFamily:
        """MLP + Memcodes (global vectors, poses) or ViT VQ-VAE."""
        return TokenizerFamily.MEMCODES_MLP if self.quant_type == "memcodes" and self.mlp_encoder \
            else TokenizerFamily.VQVAE

    @property
    def output_channels(self) -> int:
        """Channels the decoder emits: label logits for semseg, else the input channels."""
        return self.n_labels or self.n_channels


class DiVAEConfig(VQConfig):
    """Diffusion decoder tokenizer (reference ``DiVAE``); note its defaults (cosine β, v-prediction) differ."""

    dec_type: str = "unet_patched"
    num_train_timesteps: int = Field(default=1000, gt=0)
    cls_free_guidance_dropout: float = 0.0
    masked_cfg: bool = False
    masked_cfg_low: int = 0
    masked_cfg_high: int | None = None
    scheduler: Literal["ddpm", "ddim"] = "ddpm"
    beta_schedule: str = "squaredcos_cap_v2"
    prediction_type: Literal["sample", "epsilon", "v_prediction"] = "v_prediction"
    clip_sample: bool = False
    thresholding: bool = True
    conditioning: Literal["concat"] = "concat"
    dec_transformer_dropout: float = 0.2
    zero_terminal_snr: bool = True
    image_size_dec: int | None = Field(default=None, gt=0)

    @field_validator("beta_schedule")
    @classmethod
    def _known_schedule(cls, schedule: str) -> str:
        alphas_cumprod(schedule, 2)  # raises a ValueError naming the bad schedule
        return schedule

    @model_validator(mode="after")
    def _decoder_supported(self) -> DiVAEConfig:
        if self.dec_type not in UNET_PRESETS:
            raise ValueError(f"'dec_type' must be a patched UNet ({', '.join(sorted(UNET_PRESETS))}), "
                             f"found {self.dec_type!r}")
        return self

    @property
    def family(self) -> TokenizerFamily:
        """Always the diffusion-decoder family."""
        return TokenizerFamily.DIVAE

    @property
    def decoder_image_size(self) -> int:
        """Default side of decoded images (the UNet's ``sample_size``)."""
        return self.image_size_dec or self.image_size


TokenizerConfig = VQVAEConfig | DiVAEConfig


def _check_architecture(field: str, name: str) -> None:
    if name in VIT_PRESETS or parse_mlp_id(name) is not None:
        return
    raise ValueError(f"'{field}': unknown architecture {name!r}; expected one of {', '.join(known_architectures())}")


def _describe_error(err: Mapping[str, Any]) -> str:
    """``field: message (found value)`` for one pydantic error; model-level errors already name their fields."""
    message = err["msg"].removeprefix("Value error, ")
    if not err["loc"]:
        return message
    found = "" if "found" in message else f" (found {err['input']!r})"
    return f"{'.'.join(map(str, err['loc']))}: {message}{found}"


def parse_metadata(metadata: Mapping[str, str], *, source: str) -> dict[str, Any]:
    """Decode ``{arg: str(value)}`` metadata as the reference does (YAML after ``None`` → ``null``)."""
    parsed: dict[str, Any] = {}
    for key, text in metadata.items():
        try:
            parsed[key] = yaml.safe_load(text.replace("None", "null"))
        except yaml.YAMLError as exc:
            raise TokenizerConfigError(f"{source}: config key {key!r}: expected a YAML scalar or list, found "
                                       f"{text!r} ({exc.__class__.__name__})") from None
    return parsed


def config_family(config: Mapping[str, Any]) -> TokenizerFamily:
    """Which tokenizer family a decoded config describes: DiVAE, MLP + Memcodes, or ViT VQ-VAE."""
    dec_type = config.get("dec_type")
    if dec_type in UNET_PRESETS or (dec_type is None and _DIVAE_ONLY_KEYS & config.keys()):
        return TokenizerFamily.DIVAE
    if isinstance(dec_type, str) and dec_type.startswith(("unet", "uvit")):
        raise TokenizerConfigError(f"'dec_type': diffusion decoder {dec_type!r} is not supported; expected one of "
                                   f"{', '.join(sorted(UNET_PRESETS))}")
    if config.get("quant_type") == "memcodes" and parse_mlp_id(str(config.get("enc_type", ""))) is not None:
        return TokenizerFamily.MEMCODES_MLP
    return TokenizerFamily.VQVAE


def build_config(config: Mapping[str, Any], *, source: str) -> TokenizerConfig:
    """Validate a decoded config into the config model of its family; errors name the source and the field."""
    try:
        family = config_family(config)
    except TokenizerConfigError as exc:
        raise TokenizerConfigError(f"{source}: {exc}") from None
    model = DiVAEConfig if family is TokenizerFamily.DIVAE else VQVAEConfig
    try:
        return model.model_validate(dict(config))
    except ValidationError as exc:
        problems = "; ".join(_describe_error(err) for err in exc.errors())
        raise TokenizerConfigError(f"{source}: invalid {model.__name__}: {problems}") from None
