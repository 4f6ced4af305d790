"""`fused_attention`: the Triton kernels behind a torch autograd Function (needs the ``triton`` package)."""

from __future__ import annotations

import math

import torch

from mm4m.core.model.kernels.support import interpreter_enabled, unsupported_reason
from mm4m.core.model.kernels.tiles import RuleVectors, TilePlan, plan_tiles, rule_vectors
from mm4m.core.model.kernels.triton_kernels import (
    attention_backward_dkdv_kernel,
    attention_backward_dq_kernel,
    attention_forward_kernel,
)

DEFAULT_BLOCK_M = 32
DEFAULT_BLOCK_N = 32
TILE_SIZES = (16, 32, 64)
NUM_WARPS = 4


def _strides(t: torch.Tensor) -> tuple[int, int, int]:
    """(batch, head, token) strides of a (B, H, N, Dh) tensor whose last dim is contiguous."""
    return t.stride(0), t.stride(1), t.stride(2)


def _last_dim_contiguous(t: torch.Tensor) -> torch.Tensor:
    """``t`` itself when its last dim is contiguous (the kernels' only layout need), else a contiguous copy."""
    return t if t.stride(-1) == 1 else t.contiguous()


def _scales(head_dim: int) -> tuple[float, float]:
    """(score scale in the log2 domain, Dh^-½): the kernels use exp2 / log2."""
    return head_dim ** -0.5 * math.log2(math.e), head_dim ** -0.5


def _rule_args(rules: RuleVectors, plan: TilePlan) -> tuple[torch.Tensor, ...]:
    """The per-token rule vectors and the tile kinds, as every kernel takes them."""
    return rules.q_segments, rules.k_segments, rules.key_bound, rules.key_valid.view(torch.int8), plan.tile_kind


def _kernel_options(dtype: torch.dtype) -> dict[str, object]:
    """Compile-time options: fp32 dots in IEEE precision; bf16 upcast under the interpreter (its bf16 dot is wrong)."""
    upcast = dtype == torch.bfloat16 and interpreter_enabled()
    return {"UPCAST": upcast, "PRECISION": "ieee" if dtype == torch.float32 or upcast else "tf32"}


def _shape_args(q: torch.Tensor, k: torch.Tensor, plan: TilePlan) -> tuple[int, ...]:
    """(heads, queries, keys, query tiles, key tiles), the kernels' size arguments."""
    return q.shape[1], q.shape[2], k.shape[2], plan.tile_kind.shape[1], plan.tile_kind.shape[2]


def _forward(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, rules: RuleVectors,
             plan: TilePlan) -> tuple[torch.Tensor, torch.Tensor]:
    """Launch the forward kernel → (out like q, lse (B, H, M) fp32 in the log2 domain)."""
    batch, heads, num_queries, head_dim = q.shape
    out = torch.empty_like(q, memory_format=torch.contiguous_format)
    lse = torch.empty(batch, heads, num_queries, device=q.device, dtype=torch.float32)
    mean_v = v.float().mean(dim=-2).contiguous()
    grid = (plan.tile_kind.shape[1], batch * heads)
    attention_forward_kernel[grid](
        q, k, v, out, lse, mean_v, *_rule_args(rules, plan), plan.key_tile_range,
        *_strides(q), *_strides(k), *_strides(v), *_strides(out), *_shape_args(q, k, plan), _scales(head_dim)[0],
        HEAD_DIM=head_dim, BLOCK_M=plan.block_m, BLOCK_N=plan.block_n, num_warps=NUM_WARPS,
        **_kernel_options(q.dtype))
    return out, lse


def _backward(grad_out: torch.Tensor, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, out: torch.Tensor,
              lse: torch.Tensor, rules: RuleVectors, plan: TilePlan) -> tuple[torch.Tensor, ...]:
    """Launch the dK/dV and dQ kernels; blind rows (lse = +inf, output mean(V)) add dO / N to every dV row."""
    batch, heads, _, head_dim = q.shape
    num_keys = k.shape[2]
    grad_out = _last_dim_contiguous(grad_out)
    delta = (grad_out.float() * out.float()).sum(dim=-1).contiguous()
    dq, dk, dv = (torch.empty(t.shape, device=t.device, dtype=t.dtype) for t in (q, k, v))
    common = dict(HEAD_DIM=head_dim, BLOCK_M=plan.block_m, BLOCK_N=plan.block_n, num_warps=NUM_WARPS,
                  **_kernel_options(q.dtype))
    strides = (*_strides(q), *_strides(k), *_strides(v), *_strides(grad_out))
    attention_backward_dkdv_kernel[(plan.tile_kind.shape[2], batch * heads)](
        q, k, v, grad_out, lse, delta, dk, dv, *_rule_args(rules, plan), plan.query_tile_range, *strides,
        *_shape_args(q, k, plan), *_scales(head_dim), **common)
    attention_backward_dq_kernel[(plan.tile_kind.shape[1], batch * heads)](
        q, k, v, grad_out, lse, delta, dq, *_rule_args(rules, plan), plan.key_tile_range, *strides,
        *_shape_args(q, k, plan), *_scales(head_dim), **common)
    blind = torch.isinf(lse).unsqueeze(-1)
    dv += (grad_out.float() * blind).sum(dim=-2, keepdim=True).div(num_keys).to(dv.dtype)
    return dq, dk, dv


class FusedAttention(torch.autograd.Function):
    """softmax(q kᵀ / √Dh + rules) v with gradients for q, k and v; rules and plan are constants."""

    @staticmethod
    def forward(ctx, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, rules: RuleVectors,
                plan: TilePlan) -> torch.Tensor:
        out, lse = _forward(q, k, v, rules, plan)
        ctx.save_for_backward(q, k, v, out, lse)
        ctx.rules, ctx.plan = rules, plan
        return out

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        q, k, v, out, lse = ctx.saved_tensors
        return (*_backward(grad_out, q, k, v, out, lse, ctx.rules, ctx.plan), None, None)


def fused_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    q_segments: torch.Tensor | None = None,
    k_segments: torch.Tensor | None = None,
    key_bound: torch.Tensor | None = None,
    key_valid: torch.Tensor | None = None,
    block_m: int = DEFAULT_BLOCK_M,
    block_n: int = DEFAULT_BLOCK_N,
) -> torch.Tensor:
    """`mm4m.core.model.attention.attention` semantics on the Triton kernels (raises ValueError if unsupported)."""
    reason = unsupported_reason(q, k, v)
    if reason is not None:
        raise ValueError(f"fused attention: {reason}")
    if block_m not in TILE_SIZES or block_n not in TILE_SIZES:
        raise ValueError(f"fused attention: tile sizes must be in {TILE_SIZES}; found {block_m} x {block_n}")
    batch, _, num_queries, _ = q.shape
    num_keys = k.shape[2]
    if num_keys == 0 or num_queries == 0:
        return q.new_zeros(q.shape)
    rules = rule_vectors(batch, num_queries, num_keys, q_segments=q_segments, k_segments=k_segments,
                         key_bound=key_bound, key_valid=key_valid, device=q.device)
    plan = plan_tiles(rules, block_m, block_n)
    q, k, v = (_last_dim_contiguous(t) for t in (q, k, v))
    return FusedAttention.apply(q, k, v, rules, plan)
