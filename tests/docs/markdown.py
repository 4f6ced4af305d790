"""The parts of a page in ``docs/`` its tests read: one section, its fenced code blocks and its tables."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def section(page: str, heading: str) -> str:
    """The text under ``heading`` (its words, without the #s) in ``docs/<page>``, subsections included."""
    lines = (DOCS / page).read_text(encoding="utf-8").splitlines()
    levels = _heading_levels(lines)
    start = next((i for i, level in levels.items() if lines[i][level:].strip() == heading), None)
    if start is None:
        raise AssertionError(f"docs/{page}: expected a heading {heading!r}, found {[lines[i] for i in levels]}")
    end = next((i for i, level in levels.items() if i > start and level <= levels[start]), len(lines))
    return "\n".join(lines[start + 1:end])


def _heading_levels(lines: list[str]) -> dict[int, int]:
    """Line index → level of every Markdown heading, skipping the comment lines inside code fences."""
    levels, fenced = {}, False
    for i, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            levels[i] = len(line) - len(line.lstrip("#"))
    return levels


def code_blocks(text: str, language: str) -> list[str]:
    """The fenced blocks tagged ``language`` in ``text``, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M)


def table(text: str) -> list[dict[str, str]]:
    """The first Markdown table in ``text``: one {header: cell} per row."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    if len(rows) < 3:
        raise AssertionError(f"expected a Markdown table, found {len(rows)} table lines")
    cells = [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows]
    header = cells[0]
    return [dict(zip(header, row, strict=True)) for row in cells[2:]]
