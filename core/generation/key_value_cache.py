"""Self-attention keys and values of the positions decoded so far, kept in preallocated storage."""

from __future__ import annotations

import torch


class KeyValueCache:
    """One attention layer's keys and values (B, H, N, Dh), stored for ``capacity`` positions (doubled when
    full) and written in place, so a step copies only its new positions."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.length = 0
        self._keys: torch.Tensor | None = None
        self._values: torch.Tensor | None = None

    def with_new(self, keys: torch.Tensor, values: torch.Tensor, *, keep: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """The cached keys and values followed by the new ones (B, H, n, Dh); the new ones stay cached when
        ``keep`` (otherwise they only borrow the free storage)."""
        if self.length == 0 and not keep:
            return keys, values
        end = self.length + keys.shape[2]
        if self._keys is None or self._values is None or end > self._keys.shape[2]:
            self._grow(keys, values, end)
        self._keys[:, :, self.length:end] = keys
        self._values[:, :, self.length:end] = values
        if keep:
            self.length = end
        return self._keys[:, :, :end], self._values[:, :, :end]

    def _grow(self, keys: torch.Tensor, values: torch.Tensor, needed: int) -> None:
        """Storage for at least ``needed`` positions (the capacity, doubled until it fits), the cache copied in."""
        while self.capacity < needed:
            self.capacity = max(1, 2 * self.capacity)
        b, h, _, dh = keys.shape
        new_keys, new_values = keys.new_empty(b, h, self.capacity, dh), values.new_empty(b, h, self.capacity, dh)
        if self._keys is not None and self._values is not None:
            new_keys[:, :, :self.length] = self._keys[:, :, :self.length]
            new_values[:, :, :self.length] = self._values[:, :, :self.length]
        self._keys, self._values = new_keys, new_values
