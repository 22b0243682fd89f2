"""Render work dirs on the host, and the sweep of those a killed render left behind.

A render's work dir is removed when the render ends; a worker killed mid-render (a node lost,
an out-of-memory kill, a service SIGKILLed) leaves it, and at 4K that is hundreds of
megabytes. Each live work dir holds an exclusive ``flock`` on its ``.live`` file, which the
kernel releases when its process dies, however it dies; before each new render the sweep
removes the work dirs whose lock it can take. A lock is visible across processes and pid
namespaces that share the file system, so a live render is never swept, whoever runs it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import structlog

PREFIX = "c2v-render-"
LIVE = ".live"

log = structlog.get_logger(__name__)


@contextlib.contextmanager
def work_dir(base: Path | None = None) -> Iterator[Path]:
    """A fresh work dir under ``base`` (the system temp dir by default), removed on exit."""
    root = Path(base) if base is not None else Path(tempfile.gettempdir())
    sweep_orphans(root)
    folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=root))
    # Locked before it takes its name, so a sweep never sees an unlocked `.live` of a live dir.
    pending = folder / f"{LIVE}.pending"
    fd = os.open(pending, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        pending.rename(folder / LIVE)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)


def sweep_orphans(root: Path) -> list[Path]:
    """Remove the work dirs under ``root`` whose render is gone; return those removed."""
    removed: list[Path] = []
    for folder in root.glob(f"{PREFIX}*"):
        if _orphaned(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        log.info("render_dirs_swept", root=str(root), count=len(removed))
    return removed


def _orphaned(folder: Path) -> bool:
    try:
        fd = os.open(folder / LIVE, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False  # being made, or not a work dir of this kind: never guess
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # its render holds the lock
    else:
        return True
    finally:
        os.close(fd)
