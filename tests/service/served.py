"""A real `c2v serve` in a subprocess: embedded Ray, Serve on 127.0.0.1 and a port the OS picks."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conftest import ROOT


def c2v_cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "c2v.app.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )


def descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every living process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        try:
            cmd = (
                (Path("/proc") / str(child) / "cmdline")
                .read_bytes()
                .replace(b"\0", b" ")
                .decode(errors="replace")
            )
        except OSError:
            continue
        out.append((child, cmd))
        todo.extend(children.get(child, []))
    return out


class Served:
    def __init__(self, out: Path, env: dict[str, str], *flags: str) -> None:
        self.out, self.env = out, env
        self.log = out / f"serve-{time.time_ns()}.log"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "c2v.app.cli",
                "serve",
                "--port",
                "0",
                "-o",
                str(out),
                "--num-cpus",
                "2",
                "--sandbox",
                "bwrap",
                *flags,
            ],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=self.log.open("w"),
            text=True,
            cwd=ROOT,
            start_new_session=True,
        )
        self.url = self._wait_for_url(timeout=180)

    def _wait_for_url(self, timeout: float) -> str:
        found: list[str] = []

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                if "listening on " in line:
                    found.append(line.split("listening on ", 1)[1].strip())
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        if not found:
            self.stop()
            raise AssertionError(f"c2v serve did not start: {self.log.read_text()[-3000:]}")
        return found[0]

    def crash(self) -> list[tuple[int, str]]:
        """SIGKILL the service and every process below it at once, as when its pod or node dies.

        Killing the service alone leaves Ray's processes to notice on their own, which takes
        a minute or more on a loaded machine; a restarted service need not wait for that.
        """
        below = descendants(self.proc.pid)
        for pid in [self.proc.pid, *(pid for pid, _ in below)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(30)
        return below

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)


def wait_gone(pids: list[int], timeout: float = 60) -> list[int]:
    """The pids still alive after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if Path(f"/proc/{p}").exists() and "zombie" not in _state(p)]
        time.sleep(0.5)
    return alive


def _state(pid: int) -> str:
    try:
        return (Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n", 1)[0]).lower()
    except (OSError, IndexError):
        return "zombie"
