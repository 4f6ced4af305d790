"""Scoring the generations against ground truth, next to a trivial baseline and the tokenizers' ceiling."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict

from mm4m.core.data.synthetic import SceneBatch
from mm4m.core.demo import metrics
from mm4m.core.demo.generation import Predictions, caption_ids
from mm4m.core.demo.modalities import DemoKeys
from mm4m.core.demo.tokenizers import DemoTokenizers
from mm4m.core.tokenizers.neural.tokenizer import VQVAETokenizer


class Score(BaseModel):
    """One metric of one task: the model's value, the baseline's and what decoding the true tokens gives."""

    model_config = ConfigDict(frozen=True)

    task: str
    metric: str
    higher_is_better: bool
    primary: bool
    model: float
    baseline: float
    baseline_name: str
    ceiling: float | None = None

    @property
    def beats_baseline(self) -> bool:
        return self.model > self.baseline if self.higher_is_better else self.model < self.baseline


def reconstructed(tokenizer: VQVAETokenizer, data: torch.Tensor) -> torch.Tensor:
    """Ground truth through its tokenizer and back: the best any token prediction can score."""
    return tokenizer.detokenize(tokenizer.tokenize(data))


def colour_names(scenes: SceneBatch) -> list[set[str]]:
    """The colours each scene's caption names."""
    return [{obj.colour for obj in record.objects} for record in scenes.records]


def score_predictions(predictions: Predictions, train: SceneBatch, heldout: SceneBatch, keys: DemoKeys,
                      tokenizers: DemoTokenizers) -> list[Score]:
    """Every task's scores on the held-out scenes; baselines are fitted on the training scenes only."""
    image = tokenizers.image
    count = len(heldout.records)
    mean_depth = torch.full_like(heldout.depth, float(train.depth.mean()))
    mean_depth_map = train.depth.mean(dim=0, keepdim=True).expand_as(heldout.depth)
    majority_class = int(torch.bincount(train.semseg.flatten()).argmax())
    majority_map = torch.full_like(heldout.semseg, majority_class)
    train_ids = caption_ids(tokenizers, [r.caption for r in train.records])
    majority_token = Counter(token for ids in train_ids for token in ids).most_common(1)[0][0]
    true_ids = caption_ids(tokenizers, [r.caption for r in heldout.records])
    mean_image = train.rgb.mean(dim=0, keepdim=True).expand(count, -1, -1, -1)
    depth_ceiling = reconstructed(image[keys.tok_depth], heldout.depth)
    semseg_ceiling = reconstructed(image[keys.tok_semseg], heldout.semseg)
    rgb_ceiling = reconstructed(image[keys.tok_rgb], heldout.rgb).clamp(0, 1)
    colours = colour_names(heldout)
    return [
        _score("rgb → depth", "RMSE (scene units)", metrics.depth_rmse, heldout.depth, predictions.depth,
               mean_depth, "mean training depth", depth_ceiling, higher_is_better=False),
        _score("rgb → depth", "RMSE (scene units)", metrics.depth_rmse, heldout.depth, predictions.depth,
               mean_depth_map, "mean training depth map", depth_ceiling, higher_is_better=False, primary=False),
        _score("rgb → semseg", "mIoU", metrics.mean_iou, heldout.semseg, predictions.semseg,
               majority_map, "majority class everywhere", semseg_ceiling),
        _score("rgb → semseg", "pixel accuracy", metrics.pixel_accuracy, heldout.semseg, predictions.semseg,
               majority_map, "majority class everywhere", semseg_ceiling, primary=False),
        _score("rgb → caption", "token accuracy", metrics.token_accuracy, true_ids, predictions.caption_ids,
               [[majority_token] * len(ids) for ids in true_ids], "majority token everywhere", true_ids),
        _score("caption → rgb", "colour F1", metrics.colour_f1, colours, predictions.rgb_from_caption,
               mean_image, "mean training image", rgb_ceiling),
        _score("caption → rgb", "PSNR (dB)", metrics.psnr, heldout.rgb, predictions.rgb_from_caption,
               mean_image, "mean training image", rgb_ceiling, primary=False),
    ]


def _score(task: str, metric: str, measure: Callable[[Any, Any], float], truth: Any, prediction: Any,
           baseline: Any, baseline_name: str, ceiling: Any, *, higher_is_better: bool = True,
           primary: bool = True) -> Score:
    """One row: ``measure`` of the model's prediction, the baseline and the tokenizer ceiling against ``truth``."""
    return Score(task=task, metric=metric, higher_is_better=higher_is_better, primary=primary,
                 model=measure(prediction, truth), baseline=measure(baseline, truth), baseline_name=baseline_name,
                 ceiling=measure(ceiling, truth))
