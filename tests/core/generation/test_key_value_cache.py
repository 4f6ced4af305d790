"""`KeyValueCache`: preallocated storage written in place gives back exactly the keys/values appended so far."""

from __future__ import annotations

import torch

from mm4m.core.generation.key_value_cache import KeyValueCache


def chunks(*lengths, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(2, 3, n, 4, generator=g), torch.randn(2, 3, n, 4, generator=g)) for n in lengths]


def test_appended_keys_and_values_come_back_in_order_across_growth():
    cache = KeyValueCache(capacity=2)
    parts = chunks(1, 2, 1, 3)
    for index, (keys, values) in enumerate(parts):
        found_keys, found_values = cache.with_new(keys, values, keep=True)
        torch.testing.assert_close(found_keys, torch.cat([k for k, _ in parts[:index + 1]], dim=2), rtol=0, atol=0)
        torch.testing.assert_close(found_values, torch.cat([v for _, v in parts[:index + 1]], dim=2), rtol=0, atol=0)
    assert cache.length == 7 and cache.capacity == 8


def test_new_positions_not_kept_are_returned_but_not_cached():
    cache = KeyValueCache(capacity=4)
    (k1, v1), (k2, v2), (k3, v3) = chunks(2, 3, 1)
    assert cache.with_new(k1, v1, keep=False)[0] is k1  # nothing cached: no copy
    cache.with_new(k1, v1, keep=True)
    borrowed_keys, borrowed_values = cache.with_new(k2, v2, keep=False)
    torch.testing.assert_close(borrowed_keys, torch.cat([k1, k2], dim=2), rtol=0, atol=0)
    torch.testing.assert_close(borrowed_values, torch.cat([v1, v2], dim=2), rtol=0, atol=0)
    assert cache.length == 2
    keys, values = cache.with_new(k3, v3, keep=True)
    torch.testing.assert_close(keys, torch.cat([k1, k3], dim=2), rtol=0, atol=0)
    torch.testing.assert_close(values, torch.cat([v1, v3], dim=2), rtol=0, atol=0)
