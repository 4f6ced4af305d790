"""Generating from held-out scenes with the trained 4M: depth, semseg and caption from RGB, RGB from captions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from mm4m.core.data.synthetic import SceneBatch
from mm4m.core.demo.config import DemoConfig
from mm4m.core.demo.dataset import normalized_pixels
from mm4m.core.demo.modalities import CAPTION_MAX_TOKENS, DemoKeys
from mm4m.core.demo.tokenizers import DemoTokenizers
from mm4m.core.generation import GenerationPlan, GenerationSampler, initial_sample
from mm4m.core.model.fourm import FourM
from mm4m.core.special_tokens import EOS_ID, PAD_ID
from mm4m.core.spec import ModalitySpec


@dataclass(frozen=True)
class Predictions:
    """Decoded generations for every held-out scene, in the raw domain of the ground truth."""

    depth: torch.Tensor  # (N, 1, H, W) scene units
    semseg: torch.Tensor  # (N, H, W) class labels
    caption_ids: list[list[int]]  # through [EOS]
    captions: list[str]
    rgb_from_caption: torch.Tensor  # (N, 3, H, W) in [0, 1]


def caption_ids(tokenizers: DemoTokenizers, captions: list[str]) -> list[list[int]]:
    """Caption ids with the [EOS] that ends every modelled sequence."""
    return [ids + [EOS_ID] for ids in tokenizers.text.tokenize_batch(captions)]


def caption_tensor(ids: list[list[int]]) -> torch.Tensor:
    """(B, CAPTION_MAX_TOKENS) ids, right-padded with [PAD]."""
    tensor = torch.full((len(ids), CAPTION_MAX_TOKENS), PAD_ID, dtype=torch.long)
    for row, sequence in enumerate(ids):
        tensor[row, :len(sequence)] = torch.tensor(sequence[:CAPTION_MAX_TOKENS])
    return tensor


def until_eos(ids: torch.Tensor) -> list[int]:
    """A generated sequence's ids through its first [EOS] (all of them when there is none)."""
    values = ids.tolist()
    return values[:values.index(EOS_ID) + 1] if EOS_ID in values else values


class DemoGenerator:
    """Runs one generation plan per task on batches of held-out scenes (greedy, so results are reproducible)."""

    def __init__(self, model: FourM, config: DemoConfig, keys: DemoKeys, specs: dict[str, ModalitySpec],
                 tokenizers: DemoTokenizers):
        self.sampler = GenerationSampler(model)
        self.config, self.keys, self.specs, self.tokenizers = config, keys, specs, tokenizers

    def _generate(self, conditions: dict[str, torch.Tensor], target: str) -> torch.Tensor:
        spec = self.specs[target]
        steps = self.config.generation_steps if spec.kind.is_image else 1
        plan = GenerationPlan.parse({"conditions": list(conditions), "seed": self.config.seed,
                                     "targets": [{"domain": target, "steps": steps, "temperature": 0.0}]})
        sample = initial_sample(self.specs, conditions, [target])
        return self.sampler.generate(sample, plan.schedule(self.specs.__getitem__), seed=plan.seed)[target]["tensor"]

    def predict(self, scenes: SceneBatch, on_batch: Callable[[int], None] = lambda done: None) -> Predictions:
        """Generate every task for ``scenes`` in batches; ``on_batch`` gets the number of scenes done."""
        keys, image = self.keys, self.tokenizers.image
        parts: dict[str, list] = {"depth": [], "semseg": [], "ids": [], "rgb": []}
        size = self.config.eval_batch_size
        for start in range(0, len(scenes.records), size):
            rgb = scenes.rgb[start:start + size]
            pixels = {keys.rgb: normalized_pixels(self.specs[keys.rgb], rgb)}
            parts["depth"].append(image[keys.tok_depth].detokenize(self._generate(pixels, keys.tok_depth)))
            parts["semseg"].append(image[keys.tok_semseg].detokenize(self._generate(pixels, keys.tok_semseg)))
            parts["ids"] += [until_eos(row) for row in self._generate(pixels, keys.caption)]
            records = scenes.records[start:start + size]
            captions = {keys.caption: caption_tensor(caption_ids(self.tokenizers, [r.caption for r in records]))}
            parts["rgb"].append(image[keys.tok_rgb].detokenize(self._generate(captions, keys.tok_rgb)).clamp(0, 1))
            on_batch(min(start + size, len(scenes.records)))
        return Predictions(depth=torch.cat(parts["depth"]), semseg=torch.cat(parts["semseg"]),
                           caption_ids=parts["ids"],
                           captions=[self.tokenizers.text.detokenize(ids) for ids in parts["ids"]],
                           rgb_from_caption=torch.cat(parts["rgb"]))
