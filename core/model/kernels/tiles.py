"""Tile plans: which (query tile, key tile) pairs a fused kernel must visit, and which need the element mask.

The plan is computed from the rule vectors of `mm4m.core.model.attention` (never from a dense mask) and is
exact: a pair is visited iff at least one of its (query, key) elements is visible, and it is FULL iff all are.
No layout is assumed (segments need not be contiguous runs), so the same plan serves encoder, decoder and
cross-attention.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

TILE_SKIPPED, TILE_MASKED, TILE_FULL = 0, 1, 2
"""Tile kinds: no visible element; some visible (element-wise mask needed); all visible (no mask)."""


@dataclass(frozen=True)
class RuleVectors:
    """The visibility rules with every rule materialised: dense segment ids, clamped bounds, validity."""

    q_segments: torch.Tensor  # (B, M) int32 ids in [0, num_ids)
    k_segments: torch.Tensor  # (B, N) int32 ids in [0, num_ids)
    key_bound: torch.Tensor  # (B, M) int32 in [0, N]
    key_valid: torch.Tensor  # (B, N) bool
    num_ids: int

    def visible(self, b: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
        """Whether query ``i`` of batch row ``b`` sees key ``j`` (broadcasting index tensors)."""
        return self.key_valid[b, j] & (j < self.key_bound[b, i]) & (self.q_segments[b, i] == self.k_segments[b, j])


def rule_vectors(
    batch: int,
    num_queries: int,
    num_keys: int,
    *,
    q_segments: torch.Tensor | None,
    k_segments: torch.Tensor | None,
    key_bound: torch.Tensor | None,
    key_valid: torch.Tensor | None,
    device: torch.device,
) -> RuleVectors:
    """Materialise the optional rules; segment ids are renumbered 0..num_ids-1 (shared by queries and keys)."""
    if (q_segments is None) != (k_segments is None):
        raise ValueError("attention: q_segments and k_segments must be given together")
    for name, rule, length in (("q_segments", q_segments, num_queries), ("k_segments", k_segments, num_keys),
                               ("key_bound", key_bound, num_queries), ("key_valid", key_valid, num_keys)):
        if rule is not None and (rule.dim() != 2 or rule.shape[0] not in (1, batch) or rule.shape[1] != length):
            raise ValueError(f"attention: {name} must be ({batch} or 1, {length}); found {tuple(rule.shape)}")
    if q_segments is None:
        q_ids = torch.zeros(batch, num_queries, dtype=torch.int32, device=device)
        k_ids, num_ids = torch.zeros(batch, num_keys, dtype=torch.int32, device=device), 1
    else:
        ids, inverse = torch.unique(torch.cat([q_segments.expand(batch, -1), k_segments.expand(batch, -1)], dim=1),
                                    return_inverse=True)
        inverse = inverse.to(torch.int32)
        q_ids, k_ids, num_ids = inverse[:, :num_queries], inverse[:, num_queries:], ids.numel()
    if key_bound is None:
        bound = torch.full((batch, num_queries), num_keys, dtype=torch.int32, device=device)
    else:
        bound = key_bound.expand(batch, -1).clamp(0, num_keys).to(torch.int32)
    valid = (torch.ones(batch, num_keys, dtype=torch.bool, device=device) if key_valid is None
             else key_valid.expand(batch, -1).to(torch.bool))
    return RuleVectors(q_ids.contiguous(), k_ids.contiguous(), bound.contiguous(), valid.contiguous(), num_ids)


@dataclass(frozen=True)
class TilePlan:
    """Per batch row: the kind of every tile pair and, per query / key tile, the range of partner tiles to visit."""

    block_m: int
    block_n: int
    tile_kind: torch.Tensor  # (B, query tiles, key tiles) int8: TILE_SKIPPED / TILE_MASKED / TILE_FULL
    key_tile_range: torch.Tensor  # (B, query tiles, 2) int32 [first, last + 1) key tiles to visit
    query_tile_range: torch.Tensor  # (B, key tiles, 2) int32 [first, last + 1) query tiles to visit

    @property
    def skipped_fraction(self) -> float:
        """Fraction of all (query tile, key tile) pairs, over the batch, that no kernel pass visits."""
        return (self.tile_kind == TILE_SKIPPED).float().mean().item()

    @property
    def masked_fraction(self) -> float:
        """Fraction of all tile pairs that are visited with the element-wise mask (boundary tiles)."""
        return (self.tile_kind == TILE_MASKED).float().mean().item()


def _tiled(values: torch.Tensor, block: int, fill: int | bool | None = None) -> torch.Tensor:
    """(B, L) → (B, ceil(L / block), block); the tail repeats the last element, or is ``fill`` when given."""
    length = values.shape[1]
    tiles = -(-length // block)
    index = torch.arange(tiles * block, device=values.device)
    padded = values[:, index.clamp(max=length - 1)]
    if fill is not None:
        padded = padded.masked_fill(index >= length, fill)
    return padded.view(values.shape[0], tiles, block)


def _partner_range(visited: torch.Tensor) -> torch.Tensor:
    """[first, last + 1) of the True entries along the last dim of (B, T, P) bool; [0, 0) when none."""
    partners = visited.shape[-1]
    any_visited = visited.any(dim=-1)
    first = visited.to(torch.int8).argmax(dim=-1)
    last = partners - visited.flip(-1).to(torch.int8).argmax(dim=-1)
    return torch.stack([first.where(any_visited, 0), last.where(any_visited, 0)], dim=-1).to(torch.int32)


def plan_tiles(rules: RuleVectors, block_m: int, block_n: int) -> TilePlan:
    """The exact tile plan of ``rules`` for query tiles of ``block_m`` and key tiles of ``block_n`` tokens.

    A pair has a visible element iff, for some segment id u, the smallest valid key position of id u in the
    key tile is below the largest bound of an id-u query in the query tile: O(B · tiles² · ids), no (M, N) mask.
    """
    num_keys, num_ids = rules.k_segments.shape[1], rules.num_ids
    q_ids, bounds = _tiled(rules.q_segments.long(), block_m), _tiled(rules.key_bound, block_m)
    k_ids, valid = _tiled(rules.k_segments.long(), block_n), _tiled(rules.key_valid, block_n, fill=False)
    batch, q_tiles, _ = q_ids.shape
    k_tiles = k_ids.shape[1]
    positions = torch.arange(k_tiles * block_n, device=valid.device, dtype=torch.int32).view(1, k_tiles, block_n)
    no_key = num_keys + 1
    largest_bound = torch.full((batch, q_tiles, num_ids), -1, dtype=torch.int32, device=valid.device)
    largest_bound.scatter_reduce_(2, q_ids, bounds, reduce="amax")
    first_key = torch.full((batch, k_tiles, num_ids), no_key, dtype=torch.int32, device=valid.device)
    first_key.scatter_reduce_(2, k_ids, positions.masked_fill(~valid, no_key).expand(batch, -1, -1), reduce="amin")
    any_visible = (first_key[:, None, :, :] < largest_bound[:, :, None, :]).any(dim=-1)

    q_single = (q_ids == q_ids[..., :1]).all(dim=-1)
    k_single = (k_ids == k_ids[..., :1]).all(dim=-1) & valid.all(dim=-1)
    same_id = q_ids[:, :, None, 0] == k_ids[:, None, :, 0]
    key_tile_end = (torch.arange(k_tiles, device=valid.device) + 1) * block_n
    below_bounds = key_tile_end[None, None, :] <= bounds.amin(dim=-1)[:, :, None]
    full = any_visible & q_single[:, :, None] & k_single[:, None, :] & same_id & below_bounds

    tile_kind = (any_visible.to(torch.int8) + full.to(torch.int8)).contiguous()
    return TilePlan(block_m=block_m, block_n=block_n, tile_kind=tile_kind,
                    key_tile_range=_partner_range(any_visible).contiguous(),
                    query_tile_range=_partner_range(any_visible.transpose(1, 2)).contiguous())
