"""Shared fixtures for the hostile-scene corpus: the real backends (bubblewrap and Docker,
every attack runs on both), unique markers, a process watcher, a check that no container
is left behind, and a summary table printed at the end of the session."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from c2v.models import RenderRequest, SandboxLimits
from sandbox.backends import make_backend
from sandbox.base import ProcessOutcome, SandboxBackend
from sandbox.bwrap import BwrapBackend
from sandbox.render import RenderOutput, render_scene

#: Every attack runs against each backend; Docker ones carry the ``docker`` marker too.
BACKEND_PARAMS = [
    pytest.param("bwrap", id="bwrap"),
    pytest.param("docker", id="docker", marks=pytest.mark.docker),
]

#: (attack, backend, outcome, seconds), printed by pytest_terminal_summary.
_ROWS: list[tuple[str, str, str, float]] = []


def record_row(attack: str, backend: str, outcome: str, seconds: float) -> None:
    _ROWS.append((attack, backend, outcome, seconds))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _ROWS:
        return
    width = max(len("attack"), *(len(r[0]) for r in _ROWS))
    bwidth = max(len("backend"), *(len(r[1]) for r in _ROWS))
    owidth = max(len("outcome"), *(len(r[2]) for r in _ROWS))
    terminalreporter.section("sandbox containment summary")
    terminalreporter.write_line(f"{'attack':<{width}}  {'backend':<{bwidth}}  {'outcome':<{owidth}}  seconds")
    terminalreporter.write_line(f"{'-' * width}  {'-' * bwidth}  {'-' * owidth}  -------")
    for attack, backend, outcome, seconds in _ROWS:
        terminalreporter.write_line(
            f"{attack:<{width}}  {backend:<{bwidth}}  {outcome:<{owidth}}  {seconds:7.2f}"
        )


class RecordingBackend:
    """The real backend, keeping the raw ProcessOutcome of the last run for assertions."""

    def __init__(self, inner: SandboxBackend) -> None:
        self._inner = inner
        self.name = inner.name
        self.python = inner.python
        self.last: ProcessOutcome | None = None

    def unavailable_reason(self) -> str | None:
        return self._inner.unavailable_reason()

    def run(
        self,
        workdir: Path,
        argv: list[str],
        env: dict[str, str],
        limits: SandboxLimits,
        labels: dict[str, str] | None = None,
    ) -> ProcessOutcome:
        self.last = self._inner.run(workdir, argv, env, limits, labels)
        return self.last


def _usable(name: str) -> SandboxBackend:
    backend = make_backend(name)
    reason = backend.unavailable_reason()
    if reason is not None:
        pytest.fail(f"{name} sandbox unavailable (make test sets it up): {reason}")
    return backend


@pytest.fixture(scope="session")
def bwrap_backend() -> BwrapBackend:
    backend = _usable("bwrap")
    assert isinstance(backend, BwrapBackend)
    return backend


@pytest.fixture(scope="session", params=BACKEND_PARAMS)
def sandbox_backend(request: pytest.FixtureRequest) -> SandboxBackend:
    """Each real backend in turn; a test using it runs once per backend."""
    return _usable(request.param)


@pytest.fixture
def backend(sandbox_backend: SandboxBackend) -> RecordingBackend:
    return RecordingBackend(sandbox_backend)


def leftover_containers(case_id: str) -> list[str]:
    """Containers (running or not) that a render for ``case_id`` left behind."""
    import docker

    client = docker.from_env()
    found = client.containers.list(all=True, filters={"label": f"c2v.case={case_id}"})
    return [f"{c.short_id} ({c.status})" for c in found]


@pytest.fixture
def marker() -> Iterator[str]:
    """A string unique to this test, put into hostile code so its processes can be found.

    Whatever still carries it after the test (only when containment failed) is killed,
    so one failure does not leave processes counting against the next test's limits.
    """
    mark = f"c2vsec{uuid.uuid4().hex[:16]}"
    yield mark
    for pid in find_processes(mark):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


@dataclass
class Rendered:
    out: RenderOutput
    outcome: ProcessOutcome
    elapsed_s: float


RenderFn = Callable[..., Rendered]


@pytest.fixture
def render(backend: RecordingBackend, marker: str, tmp_path: Path) -> RenderFn:
    """Render hostile ``code`` (tier l, landscape) through render_scene and the real backend.

    The scratch dir holds the marker, so bwrap and its pid-1 (whose argv names the work
    dir) are visible to :func:`find_processes` too.
    """

    def _render(attack: str, code: str, limits: SandboxLimits | None = None) -> Rendered:
        scratch = tmp_path / f"scratch-{marker}"
        scratch.mkdir(exist_ok=True)
        request = RenderRequest(
            case_id=f"security-{marker}",
            section_id="s1",
            scene_name="Section1",
            code=code,
            tier="l",
            orientation="landscape",
            limits=limits or SandboxLimits(wall_s=60),
        )
        started = time.monotonic()
        out = render_scene(request, backend, scratch=scratch)
        elapsed = time.monotonic() - started
        assert backend.last is not None
        record_row(attack, backend.name, out.result.status.value, elapsed)
        if backend.name == "docker":
            assert leftover_containers(request.case_id) == [], "a sandbox container outlived its render"
        return Rendered(out=out, outcome=backend.last, elapsed_s=elapsed)

    return _render


def find_processes(marker: str) -> dict[int, str]:
    """Live host processes whose command line contains ``marker`` (zombies have none)."""
    found: dict[int, str] = {}
    me = os.getpid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found[int(entry.name)] = cmdline
    return found


def wait_until_gone(marker: str, timeout_s: float = 3.0) -> dict[int, str]:
    """Processes with ``marker`` still alive after ``timeout_s`` (SIGKILL needs a moment)."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = find_processes(marker)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


@dataclass
class ProcessWatch:
    """What a background poller saw of the marker's processes while a render ran."""

    marker: str
    seen: dict[int, str] = field(default_factory=dict)  # pid -> command line
    #: Most processes the scene itself had alive at once (bwrap and its pid-1 not counted).
    max_alive: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        self._stop.set()

    def started_by_scene(self) -> list[str]:
        """Command lines that begin with the marker: what the scene itself named."""
        return [c for c in self.seen.values() if c.startswith(self.marker)]

    def poll_forever(self) -> None:
        while not self._stop.is_set():
            alive = find_processes(self.marker)
            self.seen.update(alive)
            mine = [c for c in alive.values() if c.startswith(self.marker)]
            self.max_alive = max(self.max_alive, len(mine))
            self._stop.wait(0.05)


@pytest.fixture
def watch(marker: str) -> Iterator[ProcessWatch]:
    """Poll for the marker's processes during the test, so a "none left" check is not vacuous."""
    w = ProcessWatch(marker)
    thread = threading.Thread(target=w.poll_forever, daemon=True)
    thread.start()
    yield w
    w.stop()
    thread.join(timeout=5)
