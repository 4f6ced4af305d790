"""Merging a span-decoded prediction back into its input sequence (the reference's ``merge_span_masking``)."""

from __future__ import annotations

from collections.abc import Sequence

from mm4m.core.special_tokens import EOS_ID, is_sentinel, sentinel_id


def spans_of(prediction: Sequence[int]) -> dict[int, list[int]]:
    """Tokens following each sentinel of ``prediction`` up to the next sentinel; reading stops at [EOS].
    A sentinel that appears again starts nothing (its first span is kept)."""
    spans: dict[int, list[int]] = {}
    current: list[int] | None = None
    for token in prediction:
        if token == EOS_ID:
            break
        if is_sentinel(token):
            current = None if token in spans else spans.setdefault(token, [])
        elif current is not None:
            current.append(token)
    return spans


def merge_spans(inputs: Sequence[int], prediction: Sequence[int]) -> list[int]:
    """``inputs`` with each sentinel replaced by its span in ``prediction``; an empty input counts as ``[S_1]``."""
    spans = spans_of(prediction)
    merged: list[int] = []
    for token in inputs or [sentinel_id(1)]:
        if is_sentinel(token):
            merged.extend(spans.get(token, []))
        else:
            merged.append(token)
    return merged
