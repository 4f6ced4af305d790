"""The FlexAttention path: `torch.nn.attention.flex_attention` with a block mask built from the rule vectors."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

import torch

from mm4m.core.model.kernels.tiles import rule_vectors

FLEX_BLOCK_SIZE = 128


def flex_available() -> bool:
    """Whether this torch has FlexAttention with auxiliary outputs (``AuxRequest``)."""
    try:
        from torch.nn.attention.flex_attention import AuxRequest, create_block_mask, flex_attention  # noqa: F401
    except ImportError:
        return False
    return True


@functools.cache
def _compiled_flex() -> Callable[..., object]:
    """``flex_attention`` compiled once per process (the fused kernel; eager flex materialises the scores)."""
    from torch.nn.attention.flex_attention import flex_attention

    return torch.compile(flex_attention, dynamic=False)


def flex_attention_path(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    q_segments: torch.Tensor | None = None,
    k_segments: torch.Tensor | None = None,
    key_bound: torch.Tensor | None = None,
    key_valid: torch.Tensor | None = None,
    block_size: int = FLEX_BLOCK_SIZE,
) -> torch.Tensor:
    """`attention` semantics via FlexAttention (compiled on CUDA, eager elsewhere); blind rows get mean(V)."""
    if not flex_available():
        raise RuntimeError(f"the flex attention path needs torch.nn.attention.flex_attention with AuxRequest; "
                           f"found torch {torch.__version__}")
    from torch.nn.attention.flex_attention import AuxRequest, create_block_mask, flex_attention

    batch, _, num_queries, _ = q.shape
    num_keys = k.shape[2]
    rules = rule_vectors(batch, num_queries, num_keys, q_segments=q_segments, k_segments=k_segments,
                         key_bound=key_bound, key_valid=key_valid, device=q.device)

    def visible(b: torch.Tensor, h: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
        return rules.visible(b, i, j)

    block_mask = create_block_mask(visible, batch, None, num_queries, num_keys, device=q.device,
                                   BLOCK_SIZE=block_size)
    if not q.is_cuda and not torch.is_grad_enabled():  # CPU flex refuses inputs needing grad even under no_grad
        q, k, v = q.detach(), k.detach(), v.detach()
    if q.is_cuda:
        out, aux = _compiled_flex()(q, k, v, block_mask=block_mask, return_aux=AuxRequest(lse=True))
    else:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="flex_attention called without torch.compile")
            out, aux = flex_attention(q, k, v, block_mask=block_mask, return_aux=AuxRequest(lse=True))
    blind = torch.isneginf(aux.lse).unsqueeze(-1)
    return torch.where(blind, v.mean(dim=-2, keepdim=True), out)
