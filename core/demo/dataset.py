"""The 4M training set: the training scenes tokenized with the fitted tokenizers, written as shards."""

from __future__ import annotations

from pathlib import Path

import torch

from mm4m.core.data.shard_index import ModalityLayout
from mm4m.core.data.shards import ShardWriter
from mm4m.core.data.synthetic import SceneBatch
from mm4m.core.demo.modalities import DemoKeys
from mm4m.core.demo.tokenizers import DemoTokenizers
from mm4m.core.spec import ModalitySpec
from mm4m.core.tokenizers.neural.normalization import InputNormalizer
from mm4m.core.tokenizers.neural.tokenizer import VQVAETokenizer

TOKENIZE_BATCH = 256
SAMPLES_PER_SHARD = 1024


def normalized_pixels(spec: ModalitySpec, rgb: torch.Tensor) -> torch.Tensor:
    """RGB in [0, 1] → the encoder's input domain (the spec's mean / std)."""
    return InputNormalizer(spec.normalization, owner=f"input '{spec.key}'").normalize(rgb)


def grid_tokens(tokenizer: VQVAETokenizer, data: torch.Tensor) -> torch.Tensor:
    """Raw samples → flattened (N, h·w) ids, tokenized in batches."""
    return torch.cat([tokenizer.tokenize(chunk).flatten(1) for chunk in data.split(TOKENIZE_BATCH)])


def tokenize_scenes(scenes: SceneBatch, keys: DemoKeys, specs: dict[str, ModalitySpec],
                    tokenizers: DemoTokenizers) -> dict[str, torch.Tensor | list[torch.Tensor]]:
    """Every modality of ``scenes`` as the model reads it: pixels, token grids and caption ids (no [EOS])."""
    captions = [torch.tensor(ids) for ids in tokenizers.text.tokenize_batch([r.caption for r in scenes.records])]
    return {
        keys.rgb: normalized_pixels(specs[keys.rgb], scenes.rgb),
        keys.tok_rgb: grid_tokens(tokenizers.image[keys.tok_rgb], scenes.rgb),
        keys.tok_depth: grid_tokens(tokenizers.image[keys.tok_depth], scenes.depth),
        keys.tok_semseg: grid_tokens(tokenizers.image[keys.tok_semseg], scenes.semseg),
        keys.caption: captions,
    }


def write_training_shards(scenes: SceneBatch, keys: DemoKeys, specs: dict[str, ModalitySpec],
                          tokenizers: DemoTokenizers, directory: Path) -> Path:
    """Write the tokenized training scenes as a sharded dataset (pixels in float16, ids in int16)."""
    data = tokenize_scenes(scenes, keys, specs, tokenizers)
    size, grid = scenes.rgb.shape[-1], data[keys.tok_rgb].shape[1]
    layouts = {keys.rgb: ModalityLayout(dtype="float16", sample_shape=(3, size, size)),
               **{key: ModalityLayout(dtype="int16", sample_shape=(grid,)) for key in keys.image_targets},
               keys.caption: ModalityLayout(dtype="int16", sample_shape=(-1,), ragged=True)}
    with ShardWriter(directory, layouts, samples_per_shard=SAMPLES_PER_SHARD) as writer:
        for index in range(len(scenes.records)):
            writer.add({key: values[index] for key, values in data.items()})
    return directory
