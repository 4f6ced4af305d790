"""Captions from a small grammar: the two most visible objects and their relation, then the others."""

from __future__ import annotations

from collections.abc import Sequence

from mm4m.core.data.synthetic.records import ObjectRecord

SIDE_BY_SIDE_GAP = 0.1
"""Objects whose centroids differ by at least this fraction of the width are related by left/right, the
others by front/behind (their mean depths)."""
EMPTY_SCENE = "an empty floor"


def noun_phrase(item: ObjectRecord) -> str:
    """``a small red sphere`` / ``an …`` before a vowel."""
    words = f"{item.size_word} {item.colour} {item.shape}"
    return f"{'an' if words[0] in 'aeiou' else 'a'} {words}"


def relation(subject: ObjectRecord, reference: ObjectRecord) -> str:
    """Where ``subject`` is seen relative to ``reference``: left of, right of, in front of or behind."""
    if abs(subject.centroid_x - reference.centroid_x) >= SIDE_BY_SIDE_GAP:
        return "left of" if subject.centroid_x < reference.centroid_x else "right of"
    return "in front of" if subject.mean_depth < reference.mean_depth else "behind"


def caption(objects: Sequence[ObjectRecord]) -> str:
    """One sentence naming every visible object (``objects`` most visible first), e.g.
    ``a small red sphere left of a large blue box, with a large green cylinder``."""
    if not objects:
        return EMPTY_SCENE
    first, *others = objects
    if not others:
        return f"{noun_phrase(first)} on the floor"
    second, *rest = others
    text = f"{noun_phrase(first)} {relation(first, second)} {noun_phrase(second)}"
    if rest:
        phrases = [noun_phrase(item) for item in rest]
        listed = phrases[0] if len(phrases) == 1 else f"{', '.join(phrases[:-1])} and {phrases[-1]}"
        text += f", with {listed}"
    return text
