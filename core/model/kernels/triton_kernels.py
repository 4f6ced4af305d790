"""Triton kernels of the fused attention: the forward pass and the backward's dK/dV and dQ passes.

Every program owns one tile and walks only the partner tiles of its `TilePlan` range, skipping pairs of
kind TILE_SKIPPED and evaluating the rule vectors element-wise only on TILE_MASKED pairs. Scores live in
the log2 domain (``qk_scale`` = Dh^-½ · log2 e); the forward stores ``lse`` = log2 Σ exp2, +inf for blind rows.
"""

from __future__ import annotations

import triton
import triton.language as tl

from mm4m.core.model.kernels.tiles import TILE_MASKED, TILE_SKIPPED

_MASKED = tl.constexpr(TILE_MASKED)
_SKIPPED = tl.constexpr(TILE_SKIPPED)


@triton.jit
def _load_tile(base, positions, in_range, stride, dims, UPCAST: tl.constexpr):
    """(len(positions), Dh) rows of a (N, Dh) slab, zeros outside ``in_range``; fp32 when UPCAST."""
    tile = tl.load(base + positions[:, None] * stride + dims[None, :], mask=in_range[:, None], other=0.0)
    if UPCAST:
        tile = tile.to(tl.float32)
    return tile


@triton.jit
def _visible(q_seg, bound, k_seg, k_valid, cols):
    """Element visibility of a tile pair: key valid, below the query's bound, same segment."""
    return (k_valid[None, :] != 0) & (cols[None, :] < bound[:, None]) & (q_seg[:, None] == k_seg[None, :])


@triton.jit
def _log2_scores(q, k, kind, q_seg, bound, KSeg, KValid, cols, col_in, qk_scale, PRECISION: tl.constexpr):
    """Scaled scores q·kᵀ in the log2 domain, −inf where a masked tile hides the element."""
    scores = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale
    if kind == _MASKED:
        k_seg = tl.load(KSeg + cols, mask=col_in, other=0)
        k_valid = tl.load(KValid + cols, mask=col_in, other=0)
        scores = tl.where(_visible(q_seg, bound, k_seg, k_valid, cols), scores, float("-inf"))
    return scores


@triton.jit
def attention_forward_kernel(
    Q, K, V, Out, Lse, MeanV, QSeg, KSeg, Bound, KValid, TileKind, KeyTiles,
    stride_qb, stride_qh, stride_qn, stride_kb, stride_kh, stride_kn,
    stride_vb, stride_vh, stride_vn, stride_ob, stride_oh, stride_on,
    num_heads, num_queries, num_keys, num_q_tiles, num_k_tiles, qk_scale,
    HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
    UPCAST: tl.constexpr, PRECISION: tl.constexpr,
):
    """One query tile of one (batch, head): online softmax over its planned key tiles; blind rows get mean(V)."""
    q_tile = tl.program_id(0)
    batch_head = tl.program_id(1).to(tl.int64)
    batch, head = batch_head // num_heads, batch_head % num_heads
    rows = q_tile * BLOCK_M + tl.arange(0, BLOCK_M)
    row_in = rows < num_queries
    dims = tl.arange(0, HEAD_DIM)
    q = _load_tile(Q + batch * stride_qb + head * stride_qh, rows, row_in, stride_qn, dims, UPCAST)
    q_seg = tl.load(QSeg + batch * num_queries + rows, mask=row_in, other=0)
    bound = tl.load(Bound + batch * num_queries + rows, mask=row_in, other=0)
    k_base, v_base = K + batch * stride_kb + head * stride_kh, V + batch * stride_vb + head * stride_vh
    plan_row = batch * num_q_tiles + q_tile
    first, last = tl.load(KeyTiles + plan_row * 2), tl.load(KeyTiles + plan_row * 2 + 1)

    row_max = tl.full((BLOCK_M,), float("-inf"), tl.float32)
    row_sum = tl.zeros((BLOCK_M,), tl.float32)
    acc = tl.zeros((BLOCK_M, HEAD_DIM), tl.float32)
    for k_tile in range(first, last):
        kind = tl.load(TileKind + plan_row * num_k_tiles + k_tile)
        if kind != _SKIPPED:
            cols = k_tile * BLOCK_N + tl.arange(0, BLOCK_N)
            col_in = cols < num_keys
            k = _load_tile(k_base, cols, col_in, stride_kn, dims, UPCAST)
            v = _load_tile(v_base, cols, col_in, stride_vn, dims, UPCAST)
            scores = _log2_scores(q, k, kind, q_seg, bound, KSeg + batch * num_keys, KValid + batch * num_keys,
                                  cols, col_in, qk_scale, PRECISION)
            new_max = tl.maximum(row_max, tl.max(scores, axis=1))
            shift = tl.where(new_max == float("-inf"), 0.0, new_max)  # rows with nothing visible yet
            probs = tl.math.exp2(scores - shift[:, None])
            rescale = tl.math.exp2(row_max - shift)
            row_sum = row_sum * rescale + tl.sum(probs, axis=1)
            acc = acc * rescale[:, None] + tl.dot(probs.to(v.dtype), v, input_precision=PRECISION)
            row_max = new_max

    blind = row_sum == 0.0
    mean_v = tl.load(MeanV + batch_head * HEAD_DIM + dims)
    out = tl.where(blind[:, None], mean_v[None, :], acc / tl.where(blind, 1.0, row_sum)[:, None])
    out_ptrs = Out + batch * stride_ob + head * stride_oh + rows[:, None] * stride_on + dims[None, :]
    tl.store(out_ptrs, out.to(Out.dtype.element_ty), mask=row_in[:, None])
    lse = tl.where(blind, float("inf"), row_max + tl.math.log2(tl.where(blind, 1.0, row_sum)))
    tl.store(Lse + batch_head * num_queries + rows, lse, mask=row_in)


@triton.jit
def attention_backward_dkdv_kernel(
    Q, K, V, DOut, Lse, Delta, DK, DV, QSeg, KSeg, Bound, KValid, TileKind, QueryTiles,
    stride_qb, stride_qh, stride_qn, stride_kb, stride_kh, stride_kn,
    stride_vb, stride_vh, stride_vn, stride_gb, stride_gh, stride_gn,
    num_heads, num_queries, num_keys, num_q_tiles, num_k_tiles, qk_scale, sm_scale,
    HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
    UPCAST: tl.constexpr, PRECISION: tl.constexpr,
):
    """One key tile of one (batch, head): dV = Pᵀ dO and dK = dSᵀ Q over the query tiles that visit it.

    dO has q's shape with strides ``stride_g*``; DK and DV are contiguous like k.
    """
    k_tile = tl.program_id(0)
    batch_head = tl.program_id(1).to(tl.int64)
    batch, head = batch_head // num_heads, batch_head % num_heads
    cols = k_tile * BLOCK_N + tl.arange(0, BLOCK_N)
    col_in = cols < num_keys
    dims = tl.arange(0, HEAD_DIM)
    k = _load_tile(K + batch * stride_kb + head * stride_kh, cols, col_in, stride_kn, dims, UPCAST)
    v = _load_tile(V + batch * stride_vb + head * stride_vh, cols, col_in, stride_vn, dims, UPCAST)
    q_base, do_base = Q + batch * stride_qb + head * stride_qh, DOut + batch * stride_gb + head * stride_gh
    plan_col = batch * num_k_tiles + k_tile
    first, last = tl.load(QueryTiles + plan_col * 2), tl.load(QueryTiles + plan_col * 2 + 1)

    dk = tl.zeros((BLOCK_N, HEAD_DIM), tl.float32)
    dv = tl.zeros((BLOCK_N, HEAD_DIM), tl.float32)
    for q_tile in range(first, last):
        kind = tl.load(TileKind + (batch * num_q_tiles + q_tile) * num_k_tiles + k_tile)
        if kind != _SKIPPED:
            rows = q_tile * BLOCK_M + tl.arange(0, BLOCK_M)
            row_in = rows < num_queries
            q = _load_tile(q_base, rows, row_in, stride_qn, dims, UPCAST)
            d_out = _load_tile(do_base, rows, row_in, stride_gn, dims, UPCAST)
            q_seg = tl.load(QSeg + batch * num_queries + rows, mask=row_in, other=0)
            bound = tl.load(Bound + batch * num_queries + rows, mask=row_in, other=0)
            lse = tl.load(Lse + batch_head * num_queries + rows, mask=row_in, other=float("inf"))
            delta = tl.load(Delta + batch_head * num_queries + rows, mask=row_in, other=0.0)
            scores = _log2_scores(q, k, kind, q_seg, bound, KSeg + batch * num_keys, KValid + batch * num_keys,
                                  cols, col_in, qk_scale, PRECISION)
            probs = tl.math.exp2(scores - lse[:, None])
            dv += tl.dot(tl.trans(probs.to(d_out.dtype)), d_out, input_precision=PRECISION)
            d_probs = tl.dot(d_out, tl.trans(v), input_precision=PRECISION)
            d_scores = probs * (d_probs - delta[:, None])
            dk += tl.dot(tl.trans(d_scores.to(q.dtype)), q, input_precision=PRECISION)

    offsets = batch_head * num_keys * HEAD_DIM + cols[:, None] * HEAD_DIM + dims[None, :]
    tl.store(DK + offsets, (dk * sm_scale).to(DK.dtype.element_ty), mask=col_in[:, None])
    tl.store(DV + offsets, dv.to(DV.dtype.element_ty), mask=col_in[:, None])


@triton.jit
def attention_backward_dq_kernel(
    Q, K, V, DOut, Lse, Delta, DQ, QSeg, KSeg, Bound, KValid, TileKind, KeyTiles,
    stride_qb, stride_qh, stride_qn, stride_kb, stride_kh, stride_kn,
    stride_vb, stride_vh, stride_vn, stride_gb, stride_gh, stride_gn,
    num_heads, num_queries, num_keys, num_q_tiles, num_k_tiles, qk_scale, sm_scale,
    HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
    UPCAST: tl.constexpr, PRECISION: tl.constexpr,
):
    """One query tile of one (batch, head): dQ = dS K over its planned key tiles (DQ contiguous like q)."""
    q_tile = tl.program_id(0)
    batch_head = tl.program_id(1).to(tl.int64)
    batch, head = batch_head // num_heads, batch_head % num_heads
    rows = q_tile * BLOCK_M + tl.arange(0, BLOCK_M)
    row_in = rows < num_queries
    dims = tl.arange(0, HEAD_DIM)
    q = _load_tile(Q + batch * stride_qb + head * stride_qh, rows, row_in, stride_qn, dims, UPCAST)
    d_out = _load_tile(DOut + batch * stride_gb + head * stride_gh, rows, row_in, stride_gn, dims, UPCAST)
    q_seg = tl.load(QSeg + batch * num_queries + rows, mask=row_in, other=0)
    bound = tl.load(Bound + batch * num_queries + rows, mask=row_in, other=0)
    lse = tl.load(Lse + batch_head * num_queries + rows, mask=row_in, other=float("inf"))
    delta = tl.load(Delta + batch_head * num_queries + rows, mask=row_in, other=0.0)
    k_base, v_base = K + batch * stride_kb + head * stride_kh, V + batch * stride_vb + head * stride_vh
    plan_row = batch * num_q_tiles + q_tile
    first, last = tl.load(KeyTiles + plan_row * 2), tl.load(KeyTiles + plan_row * 2 + 1)

    dq = tl.zeros((BLOCK_M, HEAD_DIM), tl.float32)
    for k_tile in range(first, last):
        kind = tl.load(TileKind + plan_row * num_k_tiles + k_tile)
        if kind != _SKIPPED:
            cols = k_tile * BLOCK_N + tl.arange(0, BLOCK_N)
            col_in = cols < num_keys
            k = _load_tile(k_base, cols, col_in, stride_kn, dims, UPCAST)
            v = _load_tile(v_base, cols, col_in, stride_vn, dims, UPCAST)
            scores = _log2_scores(q, k, kind, q_seg, bound, KSeg + batch * num_keys, KValid + batch * num_keys,
                                  cols, col_in, qk_scale, PRECISION)
            probs = tl.math.exp2(scores - lse[:, None])
            d_probs = tl.dot(d_out, tl.trans(v), input_precision=PRECISION)
            d_scores = probs * (d_probs - delta[:, None])
            dq += tl.dot(d_scores.to(k.dtype), k, input_precision=PRECISION)

    offsets = batch_head * num_queries * HEAD_DIM + rows[:, None] * HEAD_DIM + dims[None, :]
    tl.store(DQ + offsets, (dq * sm_scale).to(DQ.dtype.element_ty), mask=row_in[:, None])
