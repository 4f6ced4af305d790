"""Writing tables and messages: rich on a terminal, plain aligned text when piped (and fast to start)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence


def use_rich(stream=None) -> bool:
    """Rich formatting only when writing to a terminal."""
    stream = stream or sys.stdout
    return hasattr(stream, "isatty") and stream.isatty()


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str | None = None) -> None:
    """A table on stdout: a rich table on a terminal, space-aligned columns otherwise."""
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    if use_rich():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, header_style="bold")
        for header in headers:
            table.add_column(header)
        for row in cells:
            table.add_row(*row)
        Console().print(table)
        return
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    sys.stdout.write("\n".join(lines) + "\n")


def print_json(data: object) -> None:
    """Indented JSON on stdout."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def warn(message: str) -> None:
    """One line on stderr."""
    sys.stderr.write(f"mm4m: {message}\n")
