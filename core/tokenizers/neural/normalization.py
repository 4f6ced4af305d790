"""Enforce a modality's raw-input contract (4m-tokenizers.md §6) and map raw data to the tokenizer's domain.

``mean_std``: images in [0, 1] (or the declared ``value_range``) → (x − mean) / std, inverted on decode.
``truncated_standardization``: per image, standardise with mean / unbiased std of the middle 80 % of values
(depth; not invertible). ``label_shift``: integer labels in ``value_range`` shifted by +1 with wrap-around
(COCO semseg: 255 "unlabelled" → 0), inverted on the decoded argmax. ``none``: values pass through.
"""

from __future__ import annotations

import torch

from mm4m.core.spec import InputNormalization, NormalizationMethod
from mm4m.core.tokenizers.neural.errors import TokenizerInputError

TRUNCATION = 0.1  # fraction of values dropped at each end by the truncated standardisation
STANDARDIZATION_EPS = 1e-6
DEFAULT_IMAGE_RANGE = (0.0, 1.0)


def truncated_standardize(x: torch.Tensor) -> torch.Tensor:
    """Per image (B, C, H, W): (x − μ) / √(σ² + 1e−6) with μ, σ² (unbiased) of the middle 80 % of sorted values."""
    flat = x.flatten(1).sort(dim=1).values
    cut = int(flat.shape[1] * TRUNCATION)
    kept = flat[:, cut:flat.shape[1] - cut]
    mean = kept.mean(dim=1)
    var = kept.var(dim=1, unbiased=True) if kept.shape[1] > 1 else torch.zeros_like(mean)
    shape = (-1,) + (1,) * (x.dim() - 1)
    return (x - mean.view(shape)) / torch.sqrt(var.view(shape) + STANDARDIZATION_EPS)


class InputNormalizer:
    """Checks raw data against an :class:`InputNormalization` and converts it to / from the tokenizer's domain."""

    def __init__(self, normalization: InputNormalization, *, owner: str):
        self.normalization = normalization
        self.owner = owner
        self.method = normalization.method

    @property
    def value_range(self) -> tuple[float, float] | None:
        """Inclusive range raw values must lie in ([0, 1] for ``mean_std`` images unless declared)."""
        if self.normalization.value_range is not None:
            return self.normalization.value_range
        return DEFAULT_IMAGE_RANGE if self.method is NormalizationMethod.MEAN_STD else None

    def normalize(self, raw: torch.Tensor) -> torch.Tensor:
        """Validate ``raw`` (type, finiteness, range, channels) and return the tokenizer input."""
        if not isinstance(raw, torch.Tensor):
            raise TokenizerInputError(f"{self.owner}: expected a torch.Tensor, found {type(raw).__name__}")
        if self.method is NormalizationMethod.LABEL_SHIFT:
            return self._shift_labels(raw)
        if raw.dtype.is_floating_point:
            if not torch.isfinite(raw).all():
                raise TokenizerInputError(f"{self.owner}: expected finite values, found NaN or infinity")
        elif self.method is not NormalizationMethod.NONE:
            raise TokenizerInputError(f"{self.owner}: expected a floating-point tensor for {self.method.value}, "
                                      f"found {raw.dtype}")
        self._check_range(raw)
        if self.method is NormalizationMethod.MEAN_STD:
            mean, std = self._mean_std(raw)
            return (raw - mean) / std
        if self.method is NormalizationMethod.TRUNCATED_STANDARDIZATION:
            return truncated_standardize(raw)
        return raw

    def denormalize(self, decoded: torch.Tensor) -> torch.Tensor:
        """Map a reconstruction back to raw data where invertible (mean/std, label argmax); else return it."""
        if self.method is NormalizationMethod.MEAN_STD:
            mean, std = self._mean_std(decoded)
            return decoded * std + mean
        if self.method is NormalizationMethod.LABEL_SHIFT:
            return (decoded.argmax(dim=1) - 1) % self._label_modulus()
        return decoded

    def _check_range(self, raw: torch.Tensor) -> None:
        bounds = self.value_range
        if bounds is None or raw.numel() == 0:
            return
        low, high = float(raw.min()), float(raw.max())
        if low < bounds[0] or high > bounds[1]:
            raise TokenizerInputError(f"{self.owner}: expected values in [{bounds[0]:g}, {bounds[1]:g}] "
                                      f"({self.method.value} input), found [{low:g}, {high:g}]")

    def _mean_std(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, std = self.normalization.mean, self.normalization.std
        if x.dim() != 4 or x.shape[1] != len(mean):
            raise TokenizerInputError(f"{self.owner}: expected (B, {len(mean)}, H, W) for the per-channel "
                                      f"mean/std normalisation, found shape {tuple(x.shape)}")
        view = (1, -1, 1, 1)
        return (torch.tensor(mean, dtype=x.dtype).view(view), torch.tensor(std, dtype=x.dtype).view(view))

    def _label_modulus(self) -> int:
        bounds = self.normalization.value_range or (0, 255)
        return int(bounds[1]) + 1

    def _shift_labels(self, raw: torch.Tensor) -> torch.Tensor:
        if raw.dtype.is_floating_point or raw.dtype == torch.bool:
            raise TokenizerInputError(f"{self.owner}: expected an integer label map, found {raw.dtype}")
        self._check_range(raw)
        return (raw.long() + 1) % self._label_modulus()
