"""Progress of long jobs: a `Progress` protocol the capabilities report to, and a rich bar for the CLI.

Capability code (seeds, export, aggregate rebuild) takes `progress: Progress = SILENT` and calls
`progress.expect(total)` once it knows how much there is, then `progress.advance(n)` as it goes; it
never imports rich (rich is imported only when a bar is made). A command wraps the call:

    with progress_bar("export") as bar:
        report = export_seeds(session=session, out=target, progress=bar)
    print(f"opstats export: wrote {len(report.written)} files")  # the one line a log keeps

The bar (description, bar, done/total, rate, time left) is drawn on stderr only when that is a
terminal; otherwise nothing is drawn, so logs and CI hold the command's own final line alone.
`unit="bytes"` shows sizes and a transfer rate instead of counts (for backups and restores).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # rich only where a bar is drawn: the capabilities import this module too
    from rich.console import Console
    from rich.progress import Progress as RichProgress
    from rich.progress import ProgressColumn, TaskID


class Progress(Protocol):
    """Where a long job reports how much there is and how much is done."""

    def expect(self, total: int) -> None:
        """How much there is in all (called once it is known; may be called again to correct it)."""

    def advance(self, n: int = 1) -> None:
        """`n` more items (or bytes) done."""


class _Silent:
    """A Progress that reports nowhere: the default of every capability that takes one."""

    def expect(self, total: int) -> None:
        """Nothing to show."""

    def advance(self, n: int = 1) -> None:
        """Nothing to show."""


SILENT: Progress = _Silent()


class Bar:
    """The Progress `progress_bar` yields: one rich task (a no-op when the bar is not drawn)."""

    def __init__(self, progress: "RichProgress", task: "TaskID") -> None:
        self._progress, self._task = progress, task
        self.done = 0
        self.total: int | None = None

    def expect(self, total: int) -> None:
        """Set the bar's length."""
        self.total = total
        self._progress.update(self._task, total=total)

    def advance(self, n: int = 1) -> None:
        """Move the bar on by `n`."""
        self.done += n
        self._progress.advance(self._task, n)


def _columns(unit: str) -> "list[ProgressColumn]":
    """Description, bar, done/total, rate and time left; sizes and bytes/s for `unit="bytes"`."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.text import Text

    class ItemRate(ProgressColumn):
        """Items per second (TransferSpeedColumn's counterpart for counts)."""

        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            shown = "?" if speed is None else f"{speed:,.0f}"
            return Text(f"{shown} {unit}/s", style="progress.data.speed")

    amount: list[ProgressColumn] = (
        [DownloadColumn(), TransferSpeedColumn()] if unit == "bytes" else [MofNCompleteColumn(), ItemRate()]
    )
    return [TextColumn("{task.description}"), BarColumn(), *amount, TimeRemainingColumn()]


@contextmanager
def progress_bar(
    description: str,
    total: int | None = None,
    *,
    unit: str = "items",
    console: "Console | None" = None,
) -> Iterator[Bar]:
    """A bar for one long job, drawn on `console` (default: stderr) only when it is a terminal."""
    from rich.console import Console
    from rich.progress import Progress as RichProgress

    console = console or Console(stderr=True)
    with RichProgress(*_columns(unit), console=console, disable=not console.is_terminal) as progress:
        bar = Bar(progress, progress.add_task(description, total=total))
        bar.total = total
        yield bar
