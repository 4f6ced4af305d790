"""A rich progress bar for the main process (a no-op elsewhere or when disabled)."""

from __future__ import annotations

from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class StepProgress:
    """Steps done out of the total, with the latest loss and learning rate."""

    def __init__(self, total_steps: int, start_step: int, *, enabled: bool):
        self._progress = Progress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                                  disable=not enabled)
        self._task = self._progress.add_task("train", total=total_steps, completed=start_step, status="")

    def update(self, step: int, loss: float, lr: float) -> None:
        self._progress.update(self._task, completed=step, status=f"loss {loss:.4f} lr {lr:.2e}")

    def __enter__(self) -> StepProgress:
        self._progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.stop()
