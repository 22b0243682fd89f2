"""A disk quota on a work dir, enforced from outside the sandbox.

The work dir lives on the host's disk, so RLIMIT_FSIZE (one file) does not stop a scene
from filling the disk with many files. A watcher thread sums the dir's allocated blocks
a few times a second and stops the sandbox once it passes the limit. The overshoot is what
the scene writes between two polls; the per-file limit bounds each write.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

POLL_S = 0.25


def disk_usage(root: Path) -> int:
    """Bytes allocated under ``root`` (links not followed; files that vanish are skipped)."""
    total = 0
    stack = [str(root)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            total += st.st_blocks * 512
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
    return total


class DiskWatch:
    """Calls ``on_exceeded`` once when ``root`` grows past ``limit_bytes``; use as a context."""

    def __init__(self, root: Path, limit_bytes: int, on_exceeded: Callable[[], None]) -> None:
        self._root = root
        self._limit = limit_bytes
        self._on_exceeded = on_exceeded
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="c2v-disk-watch", daemon=True)
        self.exceeded = ""

    def __enter__(self) -> DiskWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._stop.wait(POLL_S):
            used = disk_usage(self._root)
            if used > self._limit:
                self.exceeded = (
                    f"scene wrote more than {self._limit // (1024 * 1024)} MB to its work dir "
                    f"({used // (1024 * 1024)} MB); the sandbox was stopped"
                )
                self._on_exceeded()
                return
