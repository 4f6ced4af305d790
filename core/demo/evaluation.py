"""Scoring the generations against ground truth, next to a trivial baseline and the tokenizers' ceiling."""

from __future__ import annotations

from collections import Counter

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
        Score(task="rgb → depth", metric="RMSE (scene units)", higher_is_better=False, primary=True,
              model=metrics.depth_rmse(predictions.depth, heldout.depth),
              baseline=metrics.depth_rmse(mean_depth, heldout.depth), baseline_name="mean training depth",
              ceiling=metrics.depth_rmse(depth_ceiling, heldout.depth)),
        Score(task="rgb → depth", metric="RMSE (scene units)", higher_is_better=False, primary=False,
              model=metrics.depth_rmse(predictions.depth, heldout.depth),
              baseline=metrics.depth_rmse(mean_depth_map, heldout.depth), baseline_name="mean training depth map",
              ceiling=metrics.depth_rmse(depth_ceiling, heldout.depth)),
        Score(task="rgb → semseg", metric="mIoU", higher_is_better=True, primary=True,
              model=metrics.mean_iou(predictions.semseg, heldout.semseg),
              baseline=metrics.mean_iou(majority_map, heldout.semseg), baseline_name="majority class everywhere",
              ceiling=metrics.mean_iou(semseg_ceiling, heldout.semseg)),
        Score(task="rgb → semseg", metric="pixel accuracy", higher_is_better=True, primary=False,
              model=metrics.pixel_accuracy(predictions.semseg, heldout.semseg),
              baseline=metrics.pixel_accuracy(majority_map, heldout.semseg), baseline_name="majority class everywhere",
              ceiling=metrics.pixel_accuracy(semseg_ceiling, heldout.semseg)),
        Score(task="rgb → caption", metric="token accuracy", higher_is_better=True, primary=True,
              model=metrics.token_accuracy(predictions.caption_ids, true_ids),
              baseline=metrics.token_accuracy([[majority_token] * len(ids) for ids in true_ids], true_ids),
              baseline_name="majority token everywhere", ceiling=1.0),
        Score(task="caption → rgb", metric="colour F1", higher_is_better=True, primary=True,
              model=metrics.colour_f1(predictions.rgb_from_caption, colours),
              baseline=metrics.colour_f1(mean_image, colours), baseline_name="mean training image",
              ceiling=metrics.colour_f1(rgb_ceiling, colours)),
        Score(task="caption → rgb", metric="PSNR (dB)", higher_is_better=True, primary=False,
              model=metrics.psnr(predictions.rgb_from_caption, heldout.rgb),
              baseline=metrics.psnr(mean_image, heldout.rgb), baseline_name="mean training image",
              ceiling=metrics.psnr(rgb_ceiling, heldout.rgb)),
    ]
