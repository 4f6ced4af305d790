"""`ModalitySpec`: the typed, validated description every modality registers (spec §1.1–1.2).

A spec is pure data: plugins ship it in their static manifest, the registry lists it without importing
plugin code, and the model, masking and generation read everything they need about a modality from it.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    computed_field,
    field_validator,
    model_validator,
)

from mm4m.core.ids import modality_id

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(@[1-9][0-9]*)?$")
"""Modality keys: lower-case identifier with an optional ``@<resolution>`` suffix (``tok_depth@224``)."""


class ModalityKind(str, Enum):
    """What a modality's tensor holds; decides its embeddings and how masking treats it."""

    IMAGE_PIXELS = "image_pixels"  # (B, C, H, W) floats, patchified by a linear projection
    IMAGE_TOKENS = "image_tokens"  # (B, h, w) or (B, N) ids on a 2-D grid of a tokenizer
    GLOBAL_TOKENS = "global_tokens"  # a small fixed set of ids for a global vector (learned positions)
    TEXT_SEQUENCE = "text_sequence"  # (B, L) ids of the shared WordPiece vocabulary
    SEQUENCE_EMBEDDING = "sequence_embedding"  # (B, L, C) continuous vectors, e.g. T5-XXL

    @property
    def reference_type(self) -> str:
        """The reference's ``type`` field (``img``, ``seq`` or ``seq_emb``) that masking dispatches on."""
        return _REFERENCE_TYPE[self]

    @property
    def is_image(self) -> bool:
        """True for kinds laid out on a 2-D grid (pixels, image tokens, global tokens)."""
        return self.reference_type == "img"


_REFERENCE_TYPE = {
    ModalityKind.IMAGE_PIXELS: "img",
    ModalityKind.IMAGE_TOKENS: "img",
    ModalityKind.GLOBAL_TOKENS: "img",
    ModalityKind.TEXT_SEQUENCE: "seq",
    ModalityKind.SEQUENCE_EMBEDDING: "seq_emb",
}


class PositionalEmbedding(str, Enum):
    """How token positions are encoded (spec §2.3)."""

    SINCOS_2D = "sincos_2d"
    SINCOS_1D = "sincos_1d"
    LEARNED = "learned"


class DecodingStrategy(str, Enum):
    """Default generation scheme for a target modality (spec §5)."""

    MASKGIT = "maskgit"
    ROAR = "roar"
    AUTOREGRESSIVE = "autoregressive"


class TokenizerFamily(str, Enum):
    """Tokenizer families of 4M-21 (``4m-tokenizers.md``)."""

    NONE = "none"  # raw inputs (pixels, T5 embeddings)
    WORDPIECE = "wordpiece"  # the shared text tokenizer
    VQVAE = "vqvae"  # ViT VQ-VAE
    DIVAE = "divae"  # ViT encoder + diffusion decoder
    MEMCODES_MLP = "memcodes_mlp"  # MLP + Memcodes, for global vectors


class NormalizationMethod(str, Enum):
    """How raw data is normalised before it reaches the model or tokenizer."""

    NONE = "none"
    MEAN_STD = "mean_std"  # (x - mean) / std per channel
    TRUNCATED_STANDARDIZATION = "truncated_standardization"  # per-image, middle 80 % of values (depth)
    LABEL_SHIFT = "label_shift"  # integer labels shifted by +1 with wrap-around (COCO semseg)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class InputNormalization(_Frozen):
    """The raw input a modality accepts and how it is normalised (enforced by tokenizers)."""

    method: NormalizationMethod = NormalizationMethod.NONE
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    value_range: tuple[float, float] | None = Field(
        default=None, description="Inclusive range raw values must lie in, e.g. (0, 1) for images."
    )

    @model_validator(mode="after")
    def _mean_std_consistent(self) -> InputNormalization:
        if self.method is NormalizationMethod.MEAN_STD:
            if self.mean is None or self.std is None or len(self.mean) != len(self.std):
                raise ValueError("mean_std needs 'mean' and 'std' of the same length")
            if any(s <= 0 for s in self.std):
                raise ValueError("every 'std' must be > 0")
        if self.value_range is not None and self.value_range[0] >= self.value_range[1]:
            raise ValueError(f"'value_range' must be increasing, got {self.value_range}")
        return self


class TokenizerBinding(_Frozen):
    """Which tokenizer turns this modality's raw data into ids (implementations register by ``id``)."""

    family: TokenizerFamily
    id: str | None = Field(default=None, description="Registered tokenizer id, e.g. 'divae-depth-8k-224'.")

    @model_validator(mode="after")
    def _id_matches_family(self) -> TokenizerBinding:
        if self.family is TokenizerFamily.NONE and self.id is not None:
            raise ValueError("a modality without tokenizer (family 'none') cannot name a tokenizer id")
        if self.family is not TokenizerFamily.NONE and not self.id:
            raise ValueError(f"tokenizer family '{self.family.value}' needs a tokenizer 'id'")
        return self


class ModalitySpec(_Frozen):
    """Everything the core needs to know about one modality key (spec §1.1).

    ``max_tokens`` of grid modalities is resolved from ``input_size // patch_size`` squared when not
    given; ``modality_id`` is derived from the key and never stored independently.
    """

    key: str = Field(description="Modality key, e.g. 'tok_depth@224'.")
    kind: ModalityKind
    summary: str = ""
    vocab_size: int | None = Field(default=None, gt=0, description="Token vocabulary; None for continuous inputs.")
    max_tokens: int | None = Field(default=None, gt=0, description="Tokens per sample; resolved for grids.")
    patch_size: int | None = Field(default=None, gt=0)
    input_size: int | None = Field(default=None, gt=0)
    channels: int | None = Field(
        default=None, gt=0, description="Pixel channels (image pixels) or per-token width (sequence embeddings)."
    )
    positional_embedding: PositionalEmbedding
    max_positions: int | None = Field(
        default=None, gt=0, description="Length of a sequence's position table (4M: 263 for human_poses)."
    )
    shared_vocab: str | None = Field(default=None, description="Key whose tokenizer this modality reuses.")
    can_be_input: bool = True
    can_be_target: bool = True
    decoding: DecodingStrategy | None = None
    tokenizer: TokenizerBinding
    normalization: InputNormalization = InputNormalization()
    pretokenized: bool = False

    @model_validator(mode="before")
    @classmethod
    def _drop_derived_id(cls, data: Any) -> Any:
        """Accept our own JSON dump: a ``modality_id`` that agrees with the key is dropped, any other is an error."""
        if isinstance(data, dict) and "modality_id" in data:
            data = dict(data)
            given = data.pop("modality_id")
            key = data.get("key")
            if isinstance(key, str) and given != modality_id(key):
                raise ValueError(f"'modality_id' {given!r} does not match the key (expected {modality_id(key)})")
        return data

    @field_validator("key")
    @classmethod
    def _key_format(cls, key: str) -> str:
        if not KEY_PATTERN.match(key):
            raise ValueError(f"expected lower-case letters, digits and '_' with an optional '@<size>', got {key!r}")
        return key

    @model_validator(mode="after")
    def _consistent(self) -> ModalitySpec:
        problems = _consistency_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        if self.kind.is_image and self.max_tokens is None:
            grid = self.input_size // self.patch_size  # both checked present above
            object.__setattr__(self, "max_tokens", grid * grid)
        if self.kind.reference_type != "img" and self.max_positions is None:
            object.__setattr__(self, "max_positions", self.max_tokens)
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def modality_id(self) -> int:
        """sha256(key) mod 2**15, as the reference computes it (spec §1.4)."""
        return modality_id(self.key)

    @property
    def base_key(self) -> str:
        """The key without its ``@resolution`` suffix (what data transforms look up)."""
        return self.key.split("@", 1)[0]

    @property
    def grid_size(self) -> int | None:
        """Tokens per side for grid modalities (14 for 224/16), else None."""
        return self.input_size // self.patch_size if self.kind.is_image else None

    @classmethod
    def parse(cls, data: Any, *, source: str = "spec") -> ModalitySpec:
        """Validate ``data`` into a spec; errors are a :class:`SpecError` naming source, key and field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            key = data.get("key") if isinstance(data, dict) else None
            raise SpecError.from_validation(exc, key=key, source=source) from None


def _consistency_problems(spec: ModalitySpec) -> list[str]:
    """Cross-field rules of a spec, as human-readable sentences naming the fields involved."""
    problems: list[str] = []
    kind = spec.kind
    if kind.is_image:
        if spec.patch_size is None or spec.input_size is None:
            problems.append(f"'patch_size' and 'input_size' are required for kind '{kind.value}'")
        elif spec.input_size % spec.patch_size:
            problems.append(f"'input_size' {spec.input_size} is not a multiple of 'patch_size' {spec.patch_size}")
        elif spec.max_tokens is not None and spec.max_tokens != (spec.input_size // spec.patch_size) ** 2:
            problems.append(
                f"'max_tokens' {spec.max_tokens} disagrees with (input_size // patch_size)**2 = "
                f"{(spec.input_size // spec.patch_size) ** 2}"
            )
    elif spec.max_tokens is None:
        problems.append(f"'max_tokens' is required for kind '{kind.value}'")
    continuous = kind in (ModalityKind.IMAGE_PIXELS, ModalityKind.SEQUENCE_EMBEDDING)
    if continuous and spec.vocab_size is not None:
        problems.append(f"'vocab_size' must be absent for continuous kind '{kind.value}'")
    if not continuous and spec.vocab_size is None:
        problems.append(f"'vocab_size' is required for token kind '{kind.value}'")
    if continuous and spec.channels is None:
        problems.append(f"'channels' is required for kind '{kind.value}'")
    if continuous and spec.can_be_target:
        problems.append(f"'can_be_target' must be false: kind '{kind.value}' has no decoder")
    if not (spec.can_be_input or spec.can_be_target):
        problems.append("a modality must be an input, a target, or both ('can_be_input'/'can_be_target')")
    if spec.can_be_target and spec.decoding is None:
        problems.append("'decoding' is required when 'can_be_target' is true")
    if not spec.can_be_target and spec.decoding is not None:
        problems.append("'decoding' must be absent when 'can_be_target' is false")
    if spec.decoding is DecodingStrategy.AUTOREGRESSIVE and kind.is_image:
        problems.append(f"'decoding' autoregressive is for sequences, not kind '{kind.value}'")
    if spec.decoding in (DecodingStrategy.MASKGIT, DecodingStrategy.ROAR) and not kind.is_image:
        problems.append(f"'decoding' {spec.decoding.value} is for grid modalities, not kind '{kind.value}'")
    expected_pos = {
        ModalityKind.GLOBAL_TOKENS: (PositionalEmbedding.LEARNED,),
        ModalityKind.TEXT_SEQUENCE: (PositionalEmbedding.SINCOS_1D,),
        ModalityKind.SEQUENCE_EMBEDDING: (PositionalEmbedding.SINCOS_1D,),
    }.get(kind, (PositionalEmbedding.SINCOS_2D, PositionalEmbedding.LEARNED))
    if spec.positional_embedding not in expected_pos:
        allowed = " or ".join(p.value for p in expected_pos)
        problems.append(f"'positional_embedding' must be {allowed} for kind '{kind.value}'")
    if kind.is_image and spec.max_positions is not None:
        problems.append("'max_positions' applies to sequences only; grids have max_tokens positions")
    if spec.max_positions is not None and spec.max_tokens is not None and spec.max_positions > spec.max_tokens:
        problems.append(f"'max_positions' {spec.max_positions} exceeds 'max_tokens' {spec.max_tokens}")
    return problems


class SpecError(ValueError):
    """An invalid modality spec; the message names where it came from, the key and the bad field."""

    def __init__(self, message: str, *, key: str | None = None, field: str | None = None, source: str = "spec"):
        super().__init__(message)
        self.key = key
        self.field = field
        self.source = source

    @classmethod
    def from_validation(cls, exc: ValidationError, *, key: Any, source: str) -> SpecError:
        """Summarise a pydantic error as ``<source>: modality 'k': field 'f': message`` (first error first)."""
        parts = []
        first_field = None
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or _field_in_message(err["msg"])
            first_field = first_field or field
            msg = err["msg"].removeprefix("Value error, ")
            parts.append(f"field '{field}': {msg}" if field else msg)
        name = f"modality {key!r}" if isinstance(key, str) else "modality with no valid 'key'"
        return cls(f"{source}: {name}: " + "; ".join(parts), key=key if isinstance(key, str) else None,
                   field=first_field, source=source)


def _field_in_message(message: str) -> str:
    """Cross-field errors name their field in quotes; recover the first one for ``SpecError.field``."""
    match = re.search(r"'([a-z_]+)'", message)
    return match.group(1) if match else ""
