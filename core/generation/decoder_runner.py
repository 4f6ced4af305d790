"""FourM's decoder run step by step: cross-attention keys/values computed once per encoder pass and an
optional self-attention key/value cache, so autoregressive decoding feeds one new token per step.

It applies the decoder blocks' own layers in the blocks' order (spec §2.2), so its output equals
``FourM.forward_decoder`` for the same queries; it also accepts an encoder context without any token
(an unconditional pass whose inputs are all hidden), where cross-attention contributes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from mm4m.core.generation.key_value_cache import KeyValueCache
from mm4m.core.model.attention import attention

DEFAULT_CACHE_CAPACITY = 64
"""Positions a self-attention cache is preallocated for unless the caller knows the length (it grows beyond)."""


@dataclass(frozen=True)
class EncodedContext:
    """The decoder's view of one encoder pass: context vectors (B, N, D) and which of them are valid (B, N)."""

    context: torch.Tensor
    valid: torch.Tensor

    @staticmethod
    def empty(batch_size: int, dim: int, *, device: torch.device, dtype: torch.dtype) -> EncodedContext:
        """A context without tokens (nothing visible to the encoder)."""
        return EncodedContext(torch.zeros(batch_size, 0, dim, device=device, dtype=dtype),
                              torch.zeros(batch_size, 0, dtype=torch.bool, device=device))


def split_heads(x: torch.Tensor, parts: int, num_heads: int) -> torch.Tensor:
    """(B, N, parts·D) → (parts, B, H, N, D/H), the reference's (parts, heads, head_dim) channel order."""
    b, n, width = x.shape
    return x.reshape(b, n, parts, num_heads, width // (parts * num_heads)).permute(2, 0, 3, 1, 4)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, H, N, Dh) → (B, N, H·Dh)."""
    b, h, n, dh = x.shape
    return x.transpose(1, 2).reshape(b, n, h * dh)


class DecoderRunner:
    """Runs a model's decoder over queries for one encoder context; `run` may keep self-attention keys/values
    (``cache_capacity``: positions preallocated per block, e.g. the number of tokens to decode)."""

    def __init__(self, model: nn.Module, encoded: EncodedContext, *, cache_capacity: int = DEFAULT_CACHE_CAPACITY):
        self.blocks = list(model.decoder)
        self.decoder_norm = model.decoder_norm
        self.num_heads = model.config.num_heads
        self.cross_keys_values = [self._cross_keys_values(block, encoded.context) for block in self.blocks]
        self.cross_rules: dict[str, torch.Tensor] = {} if bool(encoded.valid.all()) else {"key_valid": encoded.valid}
        self.caches = [KeyValueCache(cache_capacity) for _ in self.blocks]

    @property
    def cached_tokens(self) -> int:
        """Number of query positions whose self-attention keys/values are cached."""
        return self.caches[0].length

    def _cross_keys_values(self, block: nn.Module, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        keys, values = split_heads(block.cross_attn.kv(block.context_norm(context)), 2, self.num_heads)
        return block.cross_attn.k_norm(keys), values

    def run(self, x: torch.Tensor, *, causal: bool, keep_cache: bool = False) -> torch.Tensor:
        """Queries ``x`` (B, n, D) (content + position/modality embedding) attend to the cached positions and
        to each other (causally when ``causal``); returns the ``decoder_norm`` output (B, n, D)."""
        self_rules = self._self_attention_rules(x, causal)
        for block, cache, cross_keys_values in zip(self.blocks, self.caches, self.cross_keys_values):
            x = x + block.drop_path(self._self_attention(block, cache, block.norm1(x), self_rules, keep_cache))
            x = x + block.drop_path(self._cross_attention(block, cross_keys_values, block.query_norm(x)))
            x = x + block.drop_path(block.mlp(block.norm2(x)))
        return self.decoder_norm(x)

    def _self_attention_rules(self, x: torch.Tensor, causal: bool) -> dict[str, torch.Tensor]:
        """No rule when every query sees every key (bidirectional queries, or a single causal one); else query i
        sees the cached positions and the queries up to i."""
        n = x.shape[1]
        if not causal or n == 1:
            return {}
        past = self.cached_tokens
        return {"key_bound": torch.arange(past + 1, past + n + 1, device=x.device).expand(x.shape[0], n)}

    def _self_attention(self, block: nn.Module, cache: KeyValueCache, h: torch.Tensor,
                        rules: dict[str, torch.Tensor], keep_cache: bool) -> torch.Tensor:
        layer = block.self_attn
        q, k, v = split_heads(layer.qkv(h), 3, self.num_heads)
        k, v = cache.with_new(layer.k_norm(k), v, keep=keep_cache)
        return layer.proj(merge_heads(attention(layer.q_norm(q), k, v, **rules)))

    def _cross_attention(self, block: nn.Module, keys_values: tuple[torch.Tensor, torch.Tensor],
                         h: torch.Tensor) -> torch.Tensor:
        layer = block.cross_attn
        q = layer.q_norm(split_heads(layer.q(h), 1, self.num_heads)[0])
        k, v = keys_values
        if k.shape[2] == 0:  # no encoder token: the attention-weighted sum over nothing is zero
            return layer.proj(torch.zeros_like(h))
        return layer.proj(merge_heads(attention(q, k, v, **self.cross_rules)))
