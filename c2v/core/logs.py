"""structlog configuration: readable lines on a terminal, JSON lines with --log-json.

Ray worker processes (render tasks, agent actors) configure themselves through
:data:`WORKER_SETUP_HOOK`, which :func:`cluster.runtime.ensure_ray` passes as the job's
``worker_process_setup_hook``: JSON lines on the worker's stderr (Ray keeps them in the
session's ``logs/worker-*.err``), at the level of ``C2V_LOG_LEVEL`` (default INFO), and also
appended to ``$C2V_LOG_DIR/worker-<host>-<pid>.jsonl`` when that variable is set.

A reused worker process keeps structlog's context variables from its previous task, so every
task and actor call starts with :func:`task_context`, which clears them before binding its own ids.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import structlog

from c2v.errors import ConfigError

#: Operator knob: the log level of worker processes (a name such as DEBUG, or a number).
LOG_LEVEL_ENV = "C2V_LOG_LEVEL"
#: Operator knob: a directory where every worker process also appends its JSON lines.
LOG_DIR_ENV = "C2V_LOG_DIR"
#: The ``worker_process_setup_hook`` every Ray worker of a c2v job runs first.
WORKER_SETUP_HOOK = "c2v.core.logs.configure_worker_logging"


def configure_logging(
    json_lines: bool = False,
    level: int = logging.WARNING,
    file: TextIO | None = None,
    with_pid: bool = False,
) -> None:
    """Configure structlog for this process; ``with_pid`` tags lines with the process id
    (worker processes, where several write to one place)."""
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
    ]
    if with_pid:
        processors.append(_add_pid)
    processors.append(structlog.processors.TimeStamper(fmt="iso", utc=True))
    out = file or sys.stderr
    if json_lines:
        processors.append(structlog.processors.JSONRenderer())
    else:
        processors.append(structlog.dev.ConsoleRenderer(colors=out.isatty()))
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


def parse_level(text: str) -> int:
    """A log level from ``C2V_LOG_LEVEL``: DEBUG, INFO, WARNING, ERROR, CRITICAL or a number."""
    raw = text.strip()
    if raw.isdigit():
        return int(raw)
    level = logging.getLevelNamesMapping().get(raw.upper())
    if level is None:
        raise ConfigError(f"{LOG_LEVEL_ENV}={text!r} is not a log level (DEBUG, INFO, WARNING, ERROR)")
    return level


def worker_level() -> int:
    """The worker log level; checked on the driver (:func:`cluster.runtime.ensure_ray`) first."""
    return parse_level(os.environ.get(LOG_LEVEL_ENV, "") or "INFO")


class _Tee:
    """A text stream that writes to several streams (the worker's stderr and its log file)."""

    def __init__(self, *streams: TextIO) -> None:
        self._streams = streams

    def write(self, text: str) -> int:
        for stream in self._streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self._streams:
            stream.flush()

    def isatty(self) -> bool:
        return False


def _add_pid(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event.setdefault("pid", os.getpid())
    return event


def configure_worker_logging() -> None:
    """Ray's ``worker_process_setup_hook``: JSON lines to stderr (and ``$C2V_LOG_DIR``).

    Runs in every worker process before its first task. It never raises: a worker that
    cannot set up logging still renders, with a warning line saying why.
    """
    problems: list[str] = []
    try:
        level = worker_level()
    except ConfigError as exc:
        level, problems = logging.INFO, [str(exc)]
    stream: Any = sys.stderr
    log_dir = os.environ.get(LOG_DIR_ENV, "").strip()
    if log_dir:
        path = Path(log_dir) / f"worker-{socket.gethostname()}-{os.getpid()}.jsonl"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            stream = _Tee(sys.stderr, path.open("a", encoding="utf-8", buffering=1))
        except OSError as exc:
            problems.append(f"cannot write {LOG_DIR_ENV} file {path}: {exc.strerror}")
    configure_logging(json_lines=True, level=level, file=stream, with_pid=True)
    for problem in problems:
        structlog.get_logger("c2v.core.logs").warning("worker_logging", problem=problem)


@contextmanager
def task_context(**ids: Any) -> Iterator[None]:
    """Bind ``ids`` to every log line of one task; nothing of an earlier task survives.

    Ray reuses worker processes, and structlog's context variables live as long as the
    thread: they are cleared before binding and again when the task ends.
    """
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(**ids)
    try:
        yield
    finally:
        structlog.contextvars.clear_contextvars()
