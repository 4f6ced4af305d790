"""How many tokens each MaskGIT / ROAR step commits (spec §5.2): cosine and linear schedules."""

from __future__ import annotations

import math
from enum import Enum


class TokenSchedule(str, Enum):
    """Name of a token-count schedule (the reference's ``token_decoding_schedules``)."""

    COSINE = "cosine"
    LINEAR = "linear"


def _check_counts(steps: int, num_tokens: int) -> None:
    if steps < 1:
        raise ValueError(f"decoding steps must be >= 1, found {steps}")
    if num_tokens < 1:
        raise ValueError(f"tokens to decode must be >= 1, found {num_tokens}")


def cosine_schedule(steps: int, num_tokens: int) -> list[int]:
    """Counts from s_i = ½(1 + cos(π·i/steps)): round(n·(s_i − s_{i+1})) per step, the last takes the rest."""
    _check_counts(steps, num_tokens)
    if steps > num_tokens:
        raise ValueError(f"cosine schedule: {steps} steps exceed the {num_tokens} tokens to decode")
    remaining = [0.5 * (1 + math.cos(math.pi * i / steps)) for i in range(steps + 1)]
    counts = [round(num_tokens * (remaining[i] - remaining[i + 1])) for i in range(steps - 1)]
    last = num_tokens - sum(counts)
    if last < 0:
        raise ValueError(f"cosine schedule: {steps} steps over {num_tokens} tokens round to a negative last step "
                         f"({last}); use fewer steps or the linear schedule")
    return counts + [last]


def linear_schedule(steps: int, num_tokens: int) -> list[int]:
    """Differences of ``int(linspace(0, n, steps + 1))``, largest first, trailing zero steps dropped."""
    _check_counts(steps, num_tokens)
    spacing = num_tokens / steps  # numpy.linspace computes i * (stop - start) / steps, last point exactly stop
    edges = [int(i * spacing) for i in range(steps)] + [num_tokens]
    counts = sorted((b - a for a, b in zip(edges, edges[1:])), reverse=True)
    while counts[-1] == 0:
        counts.pop()
    return counts


def token_counts(schedule: TokenSchedule | str, steps: int, num_tokens: int) -> list[int]:
    """Dispatch on the schedule name; an unknown name lists the known ones."""
    try:
        name = TokenSchedule(schedule)
    except ValueError:
        known = ", ".join(s.value for s in TokenSchedule)
        raise ValueError(f"unknown token schedule {schedule!r}: expected one of {known}") from None
    return cosine_schedule(steps, num_tokens) if name is TokenSchedule.COSINE else linear_schedule(steps, num_tokens)
