"""`TrainConfig`: the validated YAML of a training run (model, data and masking, optimizer, batch, run)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mm4m.core.model.config import SIZES, VARIANTS, FourMConfig, named_config

TOKEN_SUFFIXES = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}


class TrainConfigError(ValueError):
    """An invalid training config; the message names the file, the field and the value found."""


def parse_token_count(value: Any) -> int:
    """``12345``, ``"10M"`` or ``"500B"`` (K/M/B/T = 10^3/6/9/12) → a number of tokens."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMBT]?)\s*", str(value))
    if not match or isinstance(value, bool):
        raise ValueError(f"expected a token count such as 1000000, '10M' or '500B', found {value!r}")
    return round(float(match.group(1)) * TOKEN_SUFFIXES[match.group(2)])


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelSection(_Section):
    """A named size and variant (spec §2.1), the modality sets, and any FourMConfig field to override."""

    size: Literal[tuple(SIZES)] = "base"  # type: ignore[valid-type]
    variant: Literal[tuple(VARIANTS)] = "swiglu_nobias"  # type: ignore[valid-type]
    domains_in: list[str] = Field(min_length=1)
    domains_out: list[str] = Field(min_length=1)
    overrides: dict[str, Any] = Field(default_factory=dict)

    def fourm_config(self) -> FourMConfig:
        return named_config(self.size, self.variant, domains_in=self.domains_in, domains_out=self.domains_out,
                            **self.overrides)


class DataSection(_Section):
    """The sharded dataset and its masking: token budgets and either one α per side or a mixture file."""

    path: Path
    num_input_tokens: int = Field(128, gt=0)
    num_target_tokens: int = Field(128, gt=0)
    input_alpha: float = Field(1.0, gt=0)
    target_alpha: float = Field(1.0, gt=0)
    alphas_config: str | None = Field(None, description="alphas-mixture YAML path, or a shipped mixture name")
    num_workers: int = Field(0, ge=0)
    verify_checksums: bool = True


class OptimSection(_Section):
    """AdamW with linear warm-up and cosine decay over token budgets; lr = blr · global batch / 256."""

    blr: float = Field(1e-4, gt=0)
    min_blr: float = Field(0.0, ge=0)
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = Field(1e-8, gt=0)
    weight_decay: float = Field(0.05, ge=0)
    clip_grad: float | None = Field(None, gt=0)
    warmup_tokens: int = 0
    total_tokens: int
    implementation: Literal["fused", "foreach", "for-loop"] = "fused"
    embedding_grads: Literal["row-sparse", "dense"] = Field(
        "row-sparse", description="row-sparse: the same gradients without zero-filling whole vocabulary tables "
                                  "every step; used in single-process runs (multi-process runs reduce dense ones)")

    @field_validator("warmup_tokens", "total_tokens", mode="before")
    @classmethod
    def _tokens(cls, value: Any) -> int:
        return parse_token_count(value)

    @field_validator("betas")
    @classmethod
    def _betas_in_range(cls, betas: tuple[float, float]) -> tuple[float, float]:
        if not all(0 <= b < 1 for b in betas):
            raise ValueError(f"expected two betas in [0, 1), found {list(betas)}")
        return betas


class BatchSection(_Section):
    """``batch_size`` samples per process and micro-batch; the global batch is × processes × accumulation."""

    batch_size: int = Field(gt=0)
    accumulation_steps: int = Field(1, gt=0)


class RunSection(_Section):
    """Where outputs go, seeding, precision, the distributed strategy, and logging / checkpoint cadence."""

    output_dir: Path
    seed: int = 0
    loss_type: Literal["mod", "token"] = "mod"
    precision: Literal["bf16", "fp32"] = "bf16"
    distributed: Literal["ddp", "fsdp"] = "ddp"
    log_every: int = Field(10, gt=0)
    checkpoint_every: int = Field(1000, gt=0)
    progress: bool = True
    host_memory: Literal["keep", "system"] = Field(
        "keep", description="keep: freed CPU buffers stay in the process heap for the next step (no page faults "
                            "on reuse, see mm4m.core.training.host_memory); system: the C library's default")


class TrainConfig(_Section):
    """A training run; ``precision: bf16`` autocasts on GPU only (CPU runs stay float32)."""

    model: ModelSection
    data: DataSection
    optim: OptimSection
    batch: BatchSection
    run: RunSection

    @model_validator(mode="after")
    def _model_is_buildable(self) -> TrainConfig:
        self.model.fourm_config()
        return self

    @classmethod
    def parse(cls, data: Any, *, source: str = "config") -> TrainConfig:
        """Validate ``data``; errors become a `TrainConfigError` naming source, field and value found."""
        if not isinstance(data, dict):
            raise TrainConfigError(f"{source}: expected a mapping at the top level, found {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"]) or "config"
                found = f" (found {_value_at(data, err['loc'])!r})" if err["loc"] else ""
                problems.append(f"field '{field}': {err['msg'].removeprefix('Value error, ')}{found}")
            raise TrainConfigError(f"{source}: " + "; ".join(problems)) from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> TrainConfig:
        """Read and validate a YAML file; relative data/output paths are resolved against its folder."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise TrainConfigError(f"{path}: cannot read the training config: {exc}") from None
        config = cls.parse(data, source=str(path))
        base = path.resolve().parent
        return config.model_copy(update={
            "data": config.data.model_copy(update={"path": base / config.data.path}),
            "run": config.run.model_copy(update={"output_dir": base / config.run.output_dir}),
        })

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


def _value_at(data: Any, loc: tuple) -> Any:
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list | tuple) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data
