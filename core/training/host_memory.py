"""Keep freed host memory in the process heap, so a training step reuses its large CPU buffers.

glibc serves every allocation above its mmap threshold (at most 32 MB) with a fresh ``mmap`` and unmaps it
when freed. A CPU training step allocates and frees hundreds of MB of such tensors (vocabulary-head
gradients, attention and MLP activations, gather gradients), so every step touches fresh pages again:
~200k page faults per tiny-width step here, 7–13 % of the step. ``mallopt`` can route them through the
heap instead (no mmap, no trimming), and the second step onwards faults almost never. The trade: memory
freed by the process is kept for reuse rather than returned to the system, which suits a training process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
from functools import cache

M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
_NEVER_TRIM = 2**31 - 1  # mallopt takes an int: up to 2 GiB free at the top of the heap stay with the process


@cache
def keep_freed_host_memory() -> bool:
    """Route large allocations through the heap and never trim it (glibc only); True if it took effect.

    Process-wide and idempotent; a no-op returning False on other C libraries (macOS, musl, Windows).
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, _NEVER_TRIM))
