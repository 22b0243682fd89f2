"""Progress reporting: rich on a terminal, nothing otherwise (logs carry the events)."""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)


class Reporter(Protocol):
    def stage(self, text: str) -> None: ...
    def sections(self, total: int) -> None: ...
    def section(self, section_id: str, text: str, done: bool = False) -> None: ...
    def close(self) -> None: ...


def _progress(console: Console | None) -> Progress:
    """The bars every rich reporter draws: description, bar, n/m, status text, elapsed."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=False,
    )


class NullReporter:
    def stage(self, text: str) -> None:
        pass

    def sections(self, total: int) -> None:
        pass

    def section(self, section_id: str, text: str, done: bool = False) -> None:
        pass

    def close(self) -> None:
        pass


class RichReporter:
    def __init__(self, console: Console | None = None) -> None:
        self._progress = _progress(console)
        self._overall = self._progress.add_task("planning", total=None, status="")
        self._status: dict[str, str] = {}
        self._done: set[str] = set()
        self._progress.start()

    def stage(self, text: str) -> None:
        self._progress.update(self._overall, description=text)

    def sections(self, total: int) -> None:
        self._done.clear()
        self._progress.update(self._overall, total=total, completed=0, description="sections")

    def section(self, section_id: str, text: str, done: bool = False) -> None:
        self._status[section_id] = text
        shown = "  ".join(f"§{k}:{v}" for k, v in self._status.items())
        self._progress.update(self._overall, status=shown[-90:])
        if done and section_id not in self._done:
            # A section revised by the critic finishes again; count it once.
            self._done.add(section_id)
            self._progress.advance(self._overall)

    def close(self) -> None:
        self._progress.stop()


# --- batches -------------------------------------------------------------------------------
class BatchReporter(Protocol):
    """Progress of a batch: one row per topic in flight; each topic reports as a :class:`Reporter`."""

    def start(self, total: int, already_done: int) -> None: ...
    def topic(self, slug: str, title: str) -> Reporter: ...
    def topic_done(self, slug: str, status: str, line: str) -> None: ...
    def close(self) -> None: ...


class NullBatchReporter:
    def start(self, total: int, already_done: int) -> None:
        pass

    def topic(self, slug: str, title: str) -> Reporter:
        return NullReporter()

    def topic_done(self, slug: str, status: str, line: str) -> None:
        pass

    def close(self) -> None:
        pass


class _TopicRow:
    """A :class:`Reporter` for one topic of a batch: one row of the batch's progress display.

    Rich's Progress is thread-safe, so each topic's driver thread updates its own row.
    """

    def __init__(self, progress: Progress, title: str) -> None:
        self._progress = progress
        self._task = progress.add_task(title[:40], total=None, status="planning")
        self._status: dict[str, str] = {}
        self._done: set[str] = set()
        self._closed = False

    def stage(self, text: str) -> None:
        self._progress.update(self._task, status=text)

    def sections(self, total: int) -> None:
        self._done.clear()
        self._progress.update(self._task, total=total, completed=0)

    def section(self, section_id: str, text: str, done: bool = False) -> None:
        self._status[section_id] = text
        shown = "  ".join(f"§{k}:{v}" for k, v in self._status.items())
        self._progress.update(self._task, status=shown[-70:])
        if done and section_id not in self._done:
            self._done.add(section_id)
            self._progress.advance(self._task)

    def close(self) -> None:
        if not self._closed:  # the pipeline closes its reporter, and the batch closes the row
            self._closed = True
            self._progress.remove_task(self._task)


class RichBatchReporter:
    """Topics done, failed and running on one line; a row per topic in flight with its sections."""

    def __init__(self, console: Console | None = None) -> None:
        self._progress = _progress(console)
        self._overall = self._progress.add_task("topics", total=None, status="")
        self._rows: dict[str, _TopicRow] = {}
        self._ok = self._failed = 0
        self._progress.start()

    def _show(self) -> None:
        running = len(self._rows)
        self._progress.update(
            self._overall, status=f"{self._ok} ok, {self._failed} failed, {running} running"
        )

    def start(self, total: int, already_done: int) -> None:
        self._ok = already_done
        self._progress.update(self._overall, total=total, completed=already_done)
        self._show()

    def topic(self, slug: str, title: str) -> Reporter:
        row = _TopicRow(self._progress, title)
        self._rows[slug] = row
        self._show()
        return row

    def topic_done(self, slug: str, status: str, line: str) -> None:
        row = self._rows.pop(slug, None)
        if row is not None:
            row.close()
        if status == "failed":
            self._failed += 1
        else:
            self._ok += 1
        self._progress.advance(self._overall)
        self._progress.console.print(line)
        self._show()

    def close(self) -> None:
        self._progress.stop()
