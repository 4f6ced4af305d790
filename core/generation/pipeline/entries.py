"""Raw data of one sample turned into the sampler's entries: fully visible conditions and (prompted) targets."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from mm4m.core.generation.pipeline.errors import PipelineError
from mm4m.core.generation.pipeline.token_ids import TokenIds
from mm4m.core.generation.pipeline.tokenizers import TokenizerSet, tokenizer_device
from mm4m.core.generation.sample_dict import Entry, empty_target, full_input, prompted_target
from mm4m.core.spec import ModalityKind, ModalitySpec
from mm4m.core.special_tokens import EOS_ID, is_sentinel


def prepare_pixels(spec: ModalitySpec, data: Any) -> torch.Tensor:
    """(1, C, S, S): centre-cropped to a square, resized to the spec's input size and normalised."""
    from mm4m.core.tokenizers.neural.normalization import InputNormalizer

    x = torch.as_tensor(data).float()
    x = x[0] if x.dim() == 4 and x.shape[0] == 1 else x
    if x.dim() == 3 and x.shape[0] == 1 and spec.channels == 3:
        x = x.expand(3, -1, -1)
    if x.dim() != 3 or x.shape[0] != spec.channels:
        raise PipelineError(f"input '{spec.key}': expected pixels ({spec.channels}, H, W), found shape "
                            f"{tuple(x.shape)}")
    side = min(x.shape[1:])
    top, left = (x.shape[1] - side) // 2, (x.shape[2] - side) // 2
    square = x[None, :, top:top + side, left:left + side]
    resized = F.interpolate(square, size=(spec.input_size, spec.input_size), mode="bilinear", antialias=True,
                            align_corners=False)
    normalizer = InputNormalizer(spec.normalization, owner=f"input '{spec.key}'")
    if normalizer.value_range is not None:
        resized = resized.clamp(*normalizer.value_range)
    return normalizer.normalize(resized)


def condition_entry(spec: ModalitySpec, data: Any, tokenizers: TokenizerSet) -> Entry:
    """A fully visible input of any kind."""
    if spec.kind is ModalityKind.IMAGE_PIXELS:
        return full_input(spec, prepare_pixels(spec, data))
    if spec.kind is ModalityKind.SEQUENCE_EMBEDDING:
        return _sequence_features(spec, data)
    if spec.kind.is_image:
        return full_input(spec, _grid_ids(spec, data, tokenizers))
    ids = _text_ids(spec, data, tokenizers) + [EOS_ID]
    if len(ids) > spec.max_tokens:
        raise PipelineError(f"input '{spec.key}': expected at most {spec.max_tokens} tokens with [EOS], found "
                            f"{len(ids)}")
    return full_input(spec, torch.tensor([ids]))


def target_entry(spec: ModalitySpec, prompt: Any, tokenizers: TokenizerSet) -> Entry:
    """An empty target, or for a text target that is also an input, its prompt with the text to fill."""
    if prompt is None:
        return empty_target(spec, 1)
    if spec.kind is not ModalityKind.TEXT_SEQUENCE:
        raise PipelineError(f"input '{spec.key}' is also a target: only text targets take a prompt, found kind "
                            f"{spec.kind.value}")
    ids = _text_ids(spec, prompt, tokenizers)
    if not any(is_sentinel(t) for t in ids):
        raise PipelineError(f"input '{spec.key}' is also a target: its prompt must mark where to write with a "
                            f"sentinel such as [S_1], found none in {prompt!r}")
    room = spec.max_tokens - len(ids)
    if room < 2:
        raise PipelineError(f"input '{spec.key}': the prompt must leave >= 2 of {spec.max_tokens} tokens to "
                            f"generate, found {len(ids)} prompt tokens")
    return prompted_target(torch.tensor([ids]), room)


def _grid_ids(spec: ModalitySpec, data: Any, tokenizers: TokenizerSet) -> torch.Tensor:
    """(1, N) ids of a token modality: given as `TokenIds`, or raw data tokenized by its tokenizer."""
    if isinstance(data, TokenIds):
        ids, origin = data.ids, data.source
    else:
        tokenizer = tokenizers.get(spec, purpose=f"input '{spec.key}' (raw data; or give an ids file)")
        ids, origin = tokenizer.tokenize(torch.as_tensor(data)[None].to(tokenizer_device(tokenizer))), "tokenizer"
    if ids.dtype.is_floating_point or ids.dtype == torch.bool or ids.numel() != spec.max_tokens:
        raise PipelineError(f"input '{spec.key}' ({origin}): expected {spec.max_tokens} integer ids, found "
                            f"{ids.dtype} of shape {tuple(ids.shape)}")
    if ids.min() < 0 or ids.max() >= spec.vocab_size:
        raise PipelineError(f"input '{spec.key}' ({origin}): expected ids in [0, {spec.vocab_size}), found "
                            f"[{int(ids.min())}, {int(ids.max())}]")
    return ids.reshape(1, -1).long()


def _text_ids(spec: ModalitySpec, data: Any, tokenizers: TokenizerSet) -> list[int]:
    tokenizer = tokenizers.get(spec, purpose=f"input '{spec.key}'")
    return [int(t) for t in tokenizer.tokenize(data)]


def _sequence_features(spec: ModalitySpec, data: Any) -> Entry:
    """An (L, C) array padded to the spec's length, its L rows visible."""
    x = torch.as_tensor(data).float()
    if x.dim() != 2 or x.shape[1] != spec.channels or not 1 <= x.shape[0] <= spec.max_tokens:
        raise PipelineError(f"input '{spec.key}': expected (L, {spec.channels}) with 1 <= L <= {spec.max_tokens}, "
                            f"found shape {tuple(x.shape)}")
    padded = torch.zeros(1, spec.max_tokens, spec.channels)
    padded[0, :x.shape[0]] = x
    return full_input(spec, padded, valid=torch.arange(spec.max_tokens)[None] < x.shape[0])
