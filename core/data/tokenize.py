"""Raw samples → a sharded token dataset, with each modality's own tokenizer (``mm4m data tokenize``).

Token modalities are stored as ids (grids: fixed ``(max_tokens,)``; sequences: ragged); modalities whose
spec has no tokenizer (pixels, T5 embeddings) are stored as float32 arrays as given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mm4m.core.data.shard_index import ModalityLayout, ShardError, ShardIndex
from mm4m.core.data.shards import ShardWriter
from mm4m.core.interfaces import Tokenizer
from mm4m.core.spec import ModalityKind, ModalitySpec, TokenizerFamily


def token_dtype(vocab_size: int) -> str:
    """The smallest stored integer type holding ids ``< vocab_size``."""
    return "int16" if vocab_size <= 2**15 else "int32"


def layout_for(spec: ModalitySpec, raw_example: Any = None) -> ModalityLayout:
    """How ``spec``'s modality is stored; raw (untokenized) modalities take their shape from an example."""
    if spec.tokenizer.family is not TokenizerFamily.NONE:
        dtype = token_dtype(spec.vocab_size)
        if spec.kind.is_image:
            return ModalityLayout(dtype=dtype, sample_shape=(spec.max_tokens,))
        return ModalityLayout(dtype=dtype, sample_shape=(-1,), ragged=True)
    array = np.asarray(raw_example)
    if spec.kind is ModalityKind.SEQUENCE_EMBEDDING:
        return ModalityLayout(dtype="float32", sample_shape=(-1, *array.shape[1:]), ragged=True)
    return ModalityLayout(dtype="float32", sample_shape=tuple(array.shape))


def tokenize_sample(spec: ModalitySpec, tokenizer: Tokenizer | None, raw: Any) -> torch.Tensor:
    """One modality of one sample as stored: flat token ids, or the raw array for untokenized modalities."""
    if tokenizer is None:
        return torch.as_tensor(np.asarray(raw, dtype=np.float32))
    if spec.kind.is_image:
        ids = tokenizer.tokenize(torch.as_tensor(np.asarray(raw, dtype=np.float32))[None])
        return torch.as_tensor(ids).reshape(-1)
    return torch.as_tensor(tokenizer.tokenize(raw), dtype=torch.int64)


def tokenize_to_shards(samples: Iterable[Mapping[str, Any]], specs: Mapping[str, ModalitySpec],
                       tokenizers: Mapping[str, Tokenizer | None], output: str | Path, *,
                       samples_per_shard: int = 1024, overwrite: bool = False) -> ShardIndex:
    """Tokenize every sample (``{key: raw data}``, all keys of ``specs``) and write the dataset at ``output``."""
    writer: ShardWriter | None = None
    for number, sample in enumerate(samples):
        if set(sample) != set(specs):
            raise ShardError(f"raw sample {number}: expected modalities {sorted(specs)}, found {sorted(sample)}")
        if writer is None:
            layouts = {key: layout_for(spec, sample[key]) for key, spec in specs.items()}
            writer = ShardWriter(output, layouts, samples_per_shard=samples_per_shard, overwrite=overwrite)
        writer.add({key: tokenize_sample(spec, tokenizers.get(key), sample[key]) for key, spec in specs.items()})
    if writer is None:
        raise ShardError(f"{output}: no raw sample to tokenize")
    return writer.close()
