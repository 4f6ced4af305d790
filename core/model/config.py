"""`FourMConfig`: the flat FM config dict of the reference (spec §3.1), typed; and the named sizes (§2.1)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ACTIVATIONS = ("GELU", "SiLU")
"""``act_layer`` values: the ``torch.nn`` class names the released configs use."""


class ConfigError(ValueError):
    """An invalid FourM config; the message names the field, the expected and the found value."""


class FourMConfig(BaseModel):
    """The FM config dict; keys and meaning as the reference's ``FM(config)`` (§3.1).

    Only the fields that were given are written back (``to_dict``), so a loaded official config
    round-trips to the same key set.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    domains_in: list[str] = Field(min_length=1, description="Input modality keys (encoder embeddings).")
    domains_out: list[str] = Field(min_length=1, description="Target modality keys (decoder embeddings).")
    image_size: int = Field(224, gt=0, description="Fallback input size of image modalities (kept for the file).")
    patch_size: int = Field(16, gt=0, description="Fallback patch size of image modalities (kept for the file).")
    dim: int = Field(768, gt=0)
    encoder_depth: int = Field(12, ge=0)
    decoder_depth: int = Field(12, ge=0)
    num_heads: int = Field(12, gt=0)
    mlp_ratio: float = Field(4.0, gt=0)
    qkv_bias: bool = True
    proj_bias: bool = True
    mlp_bias: bool = True
    norm_bias: bool = True
    act_layer: Literal["GELU", "SiLU"] = "GELU"
    gated_mlp: bool = False
    qk_norm: bool = False
    decoder_causal_mask: bool = False
    decoder_sep_mask: bool = True
    num_register_tokens: int = Field(0, ge=0)
    use_act_checkpoint: bool = False
    share_modality_embeddings: bool = True
    drop_path_rate_encoder: float = Field(0.0, ge=0, lt=1)
    drop_path_rate_decoder: float = Field(0.0, ge=0, lt=1)
    shared_drop_path: bool = False

    @field_validator("domains_in", "domains_out")
    @classmethod
    def _unique(cls, keys: list[str]) -> list[str]:
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"expected distinct modality keys, found duplicates {dupes}")
        return keys

    @model_validator(mode="after")
    def _heads_divide_dim(self) -> FourMConfig:
        if self.dim % self.num_heads:
            raise ValueError(f"'dim' {self.dim} must be divisible by 'num_heads' {self.num_heads}")
        return self

    @classmethod
    def parse(cls, data: Any, *, source: str = "config") -> FourMConfig:
        """Validate ``data``; errors become a `ConfigError` naming source, field, expected and found."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a config mapping, found {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            lines = []
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"]) or "config"
                found = data.get(err["loc"][0]) if err["loc"] else None
                lines.append(f"field '{field}': {err['msg']} (found {found!r})")
            raise ConfigError(f"{source}: " + "; ".join(lines)) from None

    def to_dict(self) -> dict[str, Any]:
        """The config as the reference's flat dict, limited to the fields that were set explicitly."""
        return self.model_dump(exclude_unset=True)

    @property
    def all_domains(self) -> list[str]:
        """Sorted union of inputs and targets (the reference builds embeddings in this order)."""
        return sorted(set(self.domains_in) | set(self.domains_out))


SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"dim": 384, "encoder_depth": 6, "decoder_depth": 6, "num_heads": 6},
    "small": {"dim": 512, "encoder_depth": 8, "decoder_depth": 8, "num_heads": 8},
    "base": {"dim": 768, "encoder_depth": 12, "decoder_depth": 12, "num_heads": 12},
    "large": {"dim": 1024, "encoder_depth": 24, "decoder_depth": 24, "num_heads": 16},
    "xlarge": {"dim": 2048, "encoder_depth": 24, "decoder_depth": 24, "num_heads": 32},
}
"""Width, depths and heads of the named sizes (``fm_<size>_<E>e_<D>d_<variant>``); mlp ratio is always 4."""

_NO_BIAS = {"qkv_bias": False, "proj_bias": False, "mlp_bias": False, "norm_bias": False}
VARIANTS: dict[str, dict[str, Any]] = {
    "gelu": {"act_layer": "GELU", "gated_mlp": False, "qkv_bias": True, "proj_bias": True, "mlp_bias": True,
             "norm_bias": True, "qk_norm": False},
    "swiglu_nobias": {"act_layer": "SiLU", "gated_mlp": True, "qk_norm": False, **_NO_BIAS},
    "swiglu_qknorm_nobias": {"act_layer": "SiLU", "gated_mlp": True, "qk_norm": True, **_NO_BIAS},
}
"""MLP / bias / norm variants; all released 4M models are ``swiglu_nobias``."""


def named_config(size: str, variant: str, *, domains_in: list[str], domains_out: list[str],
                 **overrides: Any) -> FourMConfig:
    """The config of ``fm_<size>_..._<variant>`` for the given domains (all 17 released keys set)."""
    if size not in SIZES:
        raise ConfigError(f"unknown size {size!r}: expected one of {sorted(SIZES)}")
    if variant not in VARIANTS:
        raise ConfigError(f"unknown variant {variant!r}: expected one of {sorted(VARIANTS)}")
    data = {"domains_in": domains_in, "domains_out": domains_out, "image_size": 224, "patch_size": 16,
            "mlp_ratio": 4.0, "share_modality_embeddings": True, **SIZES[size], **VARIANTS[variant], **overrides}
    return FourMConfig.parse(data, source=f"named config {size}/{variant}")
