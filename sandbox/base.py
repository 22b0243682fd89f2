"""Where a sandboxed process runs: the backend interface.

A backend runs one argv in a prepared work dir under limits and reports how the process
ended. It knows nothing about Manim; what runs inside is :mod:`sandbox.render`'s business.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from c2v.models import SandboxLimits

#: Where the work dir appears inside every sandbox.
INSIDE_WORKDIR = "/sandbox"
#: How much of a sandbox's stdout and of its stderr the host keeps (the end of each).
TAIL_BYTES = 64 * 1024


class SandboxKind(StrEnum):
    """The backends there are (``auto`` picks one of them at the CLI boundary)."""

    bwrap = "bwrap"
    docker = "docker"


class SandboxChoice(StrEnum):
    """What a user may ask for (``--sandbox``): a backend, or ``auto`` to pick one."""

    auto = "auto"
    docker = "docker"
    bwrap = "bwrap"


@dataclass(frozen=True)
class ProcessOutcome:
    """How a sandboxed process ended, before any interpretation."""

    exit_code: int | None
    signal: int | None
    timed_out: bool
    stdout_tail: str
    stderr_tail: str
    wall_s: float
    infra_error: str = ""
    #: The kernel's OOM killer ended it (a container's memory limit); rlimits raise MemoryError instead.
    oom_killed: bool = False
    #: Why the backend stopped a scene that broke a rule it enforces from outside (disk quota).
    policy_violation: str = ""


class SandboxBackend(Protocol):
    name: str
    #: The Python interpreter, as a path inside the sandbox, that runs Manim.
    python: str

    def unavailable_reason(self) -> str | None:
        """None when the backend can run here, else one line saying why not and how to fix it."""

    def run(
        self,
        workdir: Path,
        argv: list[str],
        env: dict[str, str],
        limits: SandboxLimits,
        labels: dict[str, str] | None = None,
    ) -> ProcessOutcome:
        """Run ``argv`` with ``workdir`` as its only writable place (seen at INSIDE_WORKDIR).

        ``labels`` name the run (case, section) wherever the backend can attach them.
        """


def chown_tree(root: Path, uid: int) -> None:
    """Hand a prepared work dir to the sandbox's unprivileged uid (links not followed)."""
    for dirpath, dirnames, filenames in os.walk(root):
        os.chown(dirpath, uid, uid)
        for name in dirnames + filenames:
            os.chown(Path(dirpath) / name, uid, uid, follow_symlinks=False)
