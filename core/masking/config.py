"""Masking configuration: the reference's alphas-mixture YAML and data-config strings (spec §3.5) as
validated pydantic models.

Both file formats are read as they are. Every error is a `MaskingConfigError` naming the file, the
modality and the field, so a typo in a 19-modality mixture is found without reading a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mm4m.core.masking.errors import MaskingConfigError

ALPHA_FLOOR = 1e-9
"""Alphas are clamped to at least this before Dirichlet sampling (an α of 0 means "essentially never")."""


class KeepMode(str, Enum):
    """How the keep probability of span masking is drawn for a sequence input (spec §4.2)."""

    RANDOM = "random"  # U(0, 1)
    ALL = "all"  # 1: the whole sequence is visible if the budget allows
    BINARY = "binary"  # 0 or 1 with equal probability


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModalityAlphas(_Strict):
    """One modality's row of a mixture: K input alphas, K target alphas and K keep modes."""

    input_alphas: tuple[float, ...] = Field(min_length=1)
    target_alphas: tuple[float, ...] = Field(min_length=1)
    keep: tuple[KeepMode, ...] | None = None

    @model_validator(mode="after")
    def _lengths_and_signs(self) -> ModalityAlphas:
        k = len(self.input_alphas)
        if len(self.target_alphas) != k:
            raise ValueError(f"'target_alphas' has {len(self.target_alphas)} values, 'input_alphas' has {k}")
        if self.keep is not None and len(self.keep) != k:
            raise ValueError(f"'keep' has {len(self.keep)} values, 'input_alphas' has {k}")
        for name in ("input_alphas", "target_alphas"):
            if any(a < 0 for a in getattr(self, name)):
                raise ValueError(f"'{name}' must be >= 0, found {list(getattr(self, name))}")
        return self

    def keep_mode(self, component: int) -> KeepMode:
        """Keep mode of mixture component ``component`` (``random`` when the file gives none)."""
        return KeepMode.RANDOM if self.keep is None else self.keep[component]


class AlphasMixture(_Strict):
    """K Dirichlet components over the modalities, chosen per sample with ``sampling_weights``.

    ``sampling_weights`` None means uniform (the older file form without weights).
    """

    modalities: dict[str, ModalityAlphas]
    sampling_weights: tuple[float, ...] | None = None

    @property
    def num_components(self) -> int:
        """K, the number of mixture components."""
        return len(next(iter(self.modalities.values())).input_alphas)

    @model_validator(mode="after")
    def _same_k(self) -> AlphasMixture:
        if not self.modalities:
            raise ValueError("the mixture names no modality")
        k = self.num_components
        for key, row in self.modalities.items():
            if len(row.input_alphas) != k:
                raise ValueError(f"modality '{key}' has {len(row.input_alphas)} components, expected {k}")
        if self.sampling_weights is not None:
            w = self.sampling_weights
            if len(w) != k or any(x < 0 for x in w) or sum(w) <= 0:
                raise ValueError(f"'sampling_weights' must be {k} non-negative values with a positive sum, found {list(w)}")
        return self

    def restricted_to(self, keys: Sequence[str], *, source: str) -> AlphasMixture:
        """The mixture over ``keys`` only; a key the mixture lacks is an error naming it."""
        missing = [k for k in keys if k not in self.modalities]
        if missing:
            raise MaskingConfigError(f"no alphas for this domain (the mixture has {sorted(self.modalities)})",
                                     source=source, modality=missing[0], field="alphas_mixture")
        return AlphasMixture(modalities={k: self.modalities[k] for k in keys}, sampling_weights=self.sampling_weights)

    @classmethod
    def parse(cls, data: Any, *, source: str) -> AlphasMixture:
        """Read either file form (spec §3.5): ``{sampling_weights, alphas_mixture: {...}}`` or the bare map."""
        if not isinstance(data, Mapping):
            raise MaskingConfigError(f"expected a mapping at the top level, found {type(data).__name__}", source=source)
        if "alphas_mixture" in data:
            extra = set(data) - {"alphas_mixture", "sampling_weights"}
            if extra:
                raise MaskingConfigError(f"unexpected top-level keys {sorted(extra)}", source=source)
            rows, weights = data["alphas_mixture"], data.get("sampling_weights")
        else:
            rows, weights = data, None
        if not isinstance(rows, Mapping):
            raise MaskingConfigError(f"expected a mapping of modalities, found {type(rows).__name__}",
                                     source=source, field="alphas_mixture")
        parsed = {str(key): _parse_row(row, source=source, key=str(key)) for key, row in rows.items()}
        try:
            return cls(modalities=parsed, sampling_weights=weights)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or None
            raise MaskingConfigError(err["msg"].removeprefix("Value error, "), source=source, field=field) from None


def _parse_row(row: Any, *, source: str, key: str) -> ModalityAlphas:
    try:
        return ModalityAlphas.model_validate(row)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or _quoted_field(err["msg"])
        raise MaskingConfigError(err["msg"].removeprefix("Value error, "), source=source, modality=key,
                                 field=field or None) from None


def _quoted_field(message: str) -> str:
    start = message.find("'")
    end = message.find("'", start + 1)
    return message[start + 1:end] if start >= 0 and end > start else ""


def load_alphas_mixture(path: str | Path) -> AlphasMixture:
    """Read an alphas-mixture YAML file (either form); errors name the file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise MaskingConfigError(f"cannot read the file: {exc.strerror}", source=str(path)) from None
    except yaml.YAMLError as exc:
        raise MaskingConfigError(f"not valid YAML: {exc}", source=str(path)) from None
    return AlphasMixture.parse(data, source=str(path))


def split_domains(value: Any, *, source: str, field: str) -> tuple[str, ...]:
    """A data-config domain string ``'rgb@224-caption-det'`` → its keys (hyphen-separated)."""
    if not isinstance(value, str) or not value.strip():
        raise MaskingConfigError(f"expected hyphen-separated modality keys, found {value!r}", source=source, field=field)
    keys = tuple(part.strip() for part in value.split("-"))
    if any(not k for k in keys):
        raise MaskingConfigError(f"empty key in {value!r}", source=source, field=field)
    if len(set(keys)) != len(keys):
        raise MaskingConfigError(f"repeated key in {value!r}", source=source, field=field)
    return keys


def split_alphas(value: Any, domains: Sequence[str], *, source: str, field: str) -> dict[str, float]:
    """A data-config alphas value (one number, or one per domain hyphen-separated) → {domain: alpha}."""
    parts = [value] if isinstance(value, int | float) else str(value).split("-")
    try:
        alphas = [float(p) for p in parts]
    except ValueError:
        raise MaskingConfigError(f"expected numbers separated by '-', found {value!r}", source=source,
                                 field=field) from None
    if len(alphas) == 1:
        alphas = alphas * len(domains)
    if len(alphas) != len(domains):
        raise MaskingConfigError(f"expected 1 or {len(domains)} values (one per domain), found {len(alphas)}",
                                 source=source, field=field)
    for key, a in zip(domains, alphas, strict=True):
        if a < 0:
            raise MaskingConfigError(f"alpha must be >= 0, found {a}", source=source, modality=key, field=field)
    return dict(zip(domains, alphas, strict=True))


class MaskingConfig(_Strict):
    """Everything the unified policy needs: domains, the alphas mixture and the token budgets (spec §4.1)."""

    in_domains: tuple[str, ...] = Field(min_length=1)
    out_domains: tuple[str, ...] = Field(min_length=1)
    mixture: AlphasMixture
    num_input_tokens: int = Field(gt=0)
    num_target_tokens: int = Field(ge=0)
    min_input_tokens: int | None = Field(default=None, ge=0)
    min_target_tokens: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> MaskingConfig:
        for low, high in (("min_input_tokens", "num_input_tokens"), ("min_target_tokens", "num_target_tokens")):
            lo = getattr(self, low)
            if lo is not None and lo > getattr(self, high):
                raise ValueError(f"'{low}' {lo} exceeds '{high}' {getattr(self, high)}")
        missing = [k for k in self.modalities if k not in self.mixture.modalities]
        if missing:
            raise ValueError(f"the mixture has no alphas for domain '{missing[0]}'")
        return self

    @property
    def modalities(self) -> tuple[str, ...]:
        """Sorted union of input and output domains: the order budgets are sampled in (spec §4.1)."""
        return tuple(sorted(set(self.in_domains) | set(self.out_domains)))

    @property
    def input_tokens_range(self) -> tuple[int, int]:
        """Inclusive (min, max) of the per-sample input budget; min defaults to max (fixed budget)."""
        lo = self.num_input_tokens if self.min_input_tokens is None else self.min_input_tokens
        return lo, self.num_input_tokens

    @property
    def target_tokens_range(self) -> tuple[int, int]:
        """Inclusive (min, max) of the per-sample target budget."""
        lo = self.num_target_tokens if self.min_target_tokens is None else self.min_target_tokens
        return lo, self.num_target_tokens

    @classmethod
    def from_dataset(cls, dataset: Mapping[str, Any], *, source: str, num_input_tokens: int | None = None,
                     num_target_tokens: int | None = None, base_dir: str | Path | None = None) -> MaskingConfig:
        """Build from one ``train.datasets.<name>`` entry of a reference data config.

        Alphas come from ``alphas_config`` (a path, resolved against ``base_dir``) or from the
        ``input_alphas``/``target_alphas`` strings; run-wide token budgets fill in what the entry omits.
        """
        in_domains = split_domains(dataset.get("in_domains"), source=source, field="in_domains")
        out_domains = split_domains(dataset.get("out_domains"), source=source, field="out_domains")
        keys = tuple(sorted(set(in_domains) | set(out_domains)))
        if "alphas_config" in dataset:
            path = Path(dataset["alphas_config"])
            if base_dir is not None and not path.is_absolute():
                path = Path(base_dir) / path
            mixture = load_alphas_mixture(path).restricted_to(keys, source=str(path))
        else:
            mixture = _single_component(dataset, in_domains, out_domains, keys, source=source)
        budgets = {
            "num_input_tokens": dataset.get("num_input_tokens", num_input_tokens),
            "num_target_tokens": dataset.get("num_target_tokens", num_target_tokens),
            "min_input_tokens": dataset.get("min_input_tokens"),
            "min_target_tokens": dataset.get("min_target_tokens"),
        }
        for name in ("num_input_tokens", "num_target_tokens"):
            if budgets[name] is None:
                raise MaskingConfigError("missing (give it in the dataset entry or as an argument)",
                                         source=source, field=name)
        try:
            return cls(in_domains=in_domains, out_domains=out_domains, mixture=mixture, **budgets)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or _quoted_field(err["msg"]) or None
            raise MaskingConfigError(err["msg"].removeprefix("Value error, "), source=source, field=field) from None


def _single_component(dataset: Mapping[str, Any], in_domains: tuple[str, ...], out_domains: tuple[str, ...],
                      keys: tuple[str, ...], *, source: str) -> AlphasMixture:
    """K = 1 mixture from ``input_alphas``/``target_alphas`` strings; a key outside a side gets α 0 there."""
    for name in ("input_alphas", "target_alphas"):
        if name not in dataset:
            raise MaskingConfigError("missing (give it, or an 'alphas_config' path)", source=source, field=name)
    inputs = split_alphas(dataset["input_alphas"], in_domains, source=source, field="input_alphas")
    targets = split_alphas(dataset["target_alphas"], out_domains, source=source, field="target_alphas")
    rows = {k: ModalityAlphas(input_alphas=(inputs.get(k, 0.0),), target_alphas=(targets.get(k, 0.0),))
            for k in keys}
    return AlphasMixture(modalities=rows)


def builtin_config_path(name: str) -> Path:
    """Path of a mixture shipped in ``mm4m/core/masking/configs`` (e.g. ``mix_mod21_all2allmix_rgb2all_capT5bias``)."""
    path = Path(__file__).with_name("configs") / f"{name}.yaml"
    if not path.is_file():
        shipped = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise MaskingConfigError(f"no shipped mixture of that name; shipped: {shipped}", source=str(path))
    return path
