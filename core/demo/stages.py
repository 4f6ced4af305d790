"""Stage-by-stage progress of the demo on a console, with each stage's wall time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console


class StageLog:
    """Prints ``[i/n] stage …`` when a stage starts and its time when it ends; records the times."""

    def __init__(self, stages: tuple[str, ...], console: Console):
        self.stages, self.console = stages, console
        self.seconds: dict[str, float] = {}

    @property
    def interactive(self) -> bool:
        """Whether progress bars can be drawn (a terminal)."""
        return self.console.is_terminal

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        number = self.stages.index(name) + 1
        self.console.print(f"[bold cyan][{number}/{len(self.stages)}][/] {name} …")
        started = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - started, 2)
        self.console.print(f"      [green]done[/] in {self.seconds[name]:.1f} s")

    def note(self, message: str) -> None:
        """An indented detail line under the current stage."""
        self.console.print(f"      {message}", highlight=False)
