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
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
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
