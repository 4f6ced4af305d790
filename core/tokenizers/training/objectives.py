"""Per-modality reconstruction losses (§7) and the metrics the training report compares.

Images: MSE loss, PSNR in the raw [0, 1] domain (MSE only where the normalisation is not invertible, e.g. depth).
Label maps: cross-entropy, pixel accuracy and mIoU. Embeddings: smooth-L1 (feature maps) or 1 − cosine (global
vectors), mean cosine similarity.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import torch
import torch.nn.functional as F

from mm4m.core.spec import ModalitySpec, NormalizationMethod
from mm4m.core.tokenizers.neural.normalization import InputNormalizer
from mm4m.core.tokenizers.training.data import SampleLayout, layout_for


class Objective(ABC):
    """Loss on network-domain reconstructions, metrics over a set of them, and the map back to raw data."""

    #: Name of the metric that summarises reconstruction quality.
    primary_metric: str
    #: Whether a larger primary metric is better.
    higher_is_better: bool

    def __init__(self, normalizer: InputNormalizer):
        self.normalizer = normalizer

    @abstractmethod
    def loss(self, reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Scalar reconstruction loss of a training batch."""

    @abstractmethod
    def metrics(self, reconstruction: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        """Metrics over a whole evaluation set (primary metric included)."""

    def to_raw(self, reconstruction: torch.Tensor) -> torch.Tensor:
        """Reconstruction in the modality's raw domain, where the normalisation is invertible."""
        return self.normalizer.denormalize(reconstruction)


class PixelObjective(Objective):
    """Images: MSE; PSNR over the raw value range when the normalisation can be undone."""

    def __init__(self, normalizer: InputNormalizer):
        super().__init__(normalizer)
        self.invertible = normalizer.method is NormalizationMethod.MEAN_STD
        self.primary_metric, self.higher_is_better = ("psnr", True) if self.invertible else ("mse", False)

    def loss(self, reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(reconstruction, target)

    def metrics(self, reconstruction: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        if not self.invertible:
            return {"mse": F.mse_loss(reconstruction, target).item()}
        low, high = self.normalizer.value_range
        raw = self.to_raw(reconstruction).clamp(low, high)
        per_sample = (raw - self.to_raw(target)).pow(2).flatten(1).mean(dim=1)
        psnr = 10 * torch.log10((high - low) ** 2 / per_sample.clamp_min(1e-10))
        return {"psnr": psnr.mean().item(), "mse": per_sample.mean().item()}


class LabelObjective(Objective):
    """Label maps: cross-entropy over the label logits; pixel accuracy and mean IoU of the argmax."""

    primary_metric, higher_is_better = "miou", True

    def loss(self, reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(reconstruction, target)

    def metrics(self, reconstruction: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        predicted = reconstruction.argmax(dim=1)
        ious = []
        for label in torch.unique(torch.cat([predicted.unique(), target.unique()])):
            hit, truth = predicted == label, target == label
            ious.append((hit & truth).sum().item() / (hit | truth).sum().item())
        return {"miou": sum(ious) / len(ious), "accuracy": (predicted == target).float().mean().item()}


class EmbeddingObjective(Objective):
    """Feature maps (smooth-L1) and global vectors (1 − cosine); scored by mean cosine over channels."""

    primary_metric, higher_is_better = "cosine", True

    def __init__(self, normalizer: InputNormalizer, *, global_vectors: bool):
        super().__init__(normalizer)
        self.global_vectors = global_vectors

    def loss(self, reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.global_vectors:
            return 1 - F.cosine_similarity(reconstruction, target, dim=1).mean()
        return F.smooth_l1_loss(reconstruction, target)

    def metrics(self, reconstruction: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        return {"cosine": F.cosine_similarity(reconstruction, target, dim=1).mean().item(),
                "mse": F.mse_loss(reconstruction, target).item()}


def objective_for(spec: ModalitySpec, sample_shape: tuple[int, ...]) -> Objective:
    """The objective of ``spec``'s data (samples of ``sample_shape``, raw layout)."""
    normalizer = InputNormalizer(spec.normalization, owner=f"training data of {spec.key!r}")
    layout = layout_for(spec)
    if layout is SampleLayout.LABELS:
        return LabelObjective(normalizer)
    if layout is SampleLayout.EMBEDDING:
        return EmbeddingObjective(normalizer, global_vectors=math.prod(sample_shape[1:]) == 1)
    return PixelObjective(normalizer)
