"""A render worker killed mid-render leaves nothing running: bubblewrap sandboxes die with
it, and the containers it leaves are found and removed by the reaper."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import docker
import pytest

from sandbox.docker import LABEL, DockerBackend, reap_orphans

pytestmark = pytest.mark.security

_WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from c2v.models import SandboxLimits
    from sandbox.docker import DockerBackend

    work = Path(sys.argv[1])
    DockerBackend().run(work, ["sleep", "600"], {}, SandboxLimits(wall_s=600), {"c2v.case": sys.argv[2]})
    """
)


def _containers(client: docker.DockerClient, case: str) -> list[str]:
    return [c.id for c in client.containers.list(all=True, filters={"label": f"c2v.case={case}"})]


@pytest.mark.docker
def test_a_killed_workers_container_is_reaped(tmp_path: Path) -> None:
    backend = DockerBackend()
    reason = backend.unavailable_reason()
    if reason is not None:
        pytest.fail(f"docker sandbox unavailable (make test sets it up): {reason}")
    client = docker.from_env()
    case = f"orphan-{uuid.uuid4().hex[:12]}"
    worker = subprocess.Popen([sys.executable, "-c", _WORKER, str(tmp_path), case])
    try:
        deadline = time.monotonic() + 60
        while not _containers(client, case) and time.monotonic() < deadline:
            time.sleep(0.2)
        started = _containers(client, case)
        assert started, "the worker never started its container"
        # Another live worker's container is left alone while its worker lives.
        reap_orphans(client)
        assert _containers(client, case) == started
        os.kill(worker.pid, signal.SIGKILL)  # no finally runs: the container is orphaned
        worker.wait()
        assert _containers(client, case) == started
        removed = reap_orphans(client)
        assert _containers(client, case) == []
        assert any(cid.startswith(short) for short in removed for cid in started)
        labelled = client.containers.list(all=True, filters={"label": LABEL})
        assert all(c.labels.get("c2v.case") != case for c in labelled)
    finally:
        if worker.poll() is None:
            worker.kill()
        for cid in _containers(client, case):
            client.containers.get(cid).remove(force=True)


_BWRAP_WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from c2v.models import SandboxLimits
    from sandbox.bwrap import BwrapBackend

    argv = ["/bin/sh", "-c", "sleep 600 & exec sleep 601"]
    BwrapBackend().run(Path(sys.argv[1]), argv, {"PATH": "/usr/bin:/bin"}, SandboxLimits(wall_s=600))
    """
)


def _sleepers(workdir: Path) -> list[int]:
    """Processes of the sandbox started for ``workdir`` (bwrap names it in its argv)."""
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes()
            except OSError:
                continue
            if str(workdir).encode() in cmdline or cmdline.startswith((b"sleep\x00600", b"sleep\x00601")):
                pids.append(int(entry.name))
    return pids


def test_a_killed_workers_bwrap_sandbox_dies_with_it(tmp_path: Path) -> None:
    work = tmp_path / f"work-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    before = set(_sleepers(work))
    worker = subprocess.Popen([sys.executable, "-c", _BWRAP_WORKER, str(work)])
    try:
        deadline = time.monotonic() + 30
        while len(set(_sleepers(work)) - before) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        started = set(_sleepers(work)) - before
        assert len(started) >= 3, "the sandbox (bwrap and both sleepers) never came up"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        deadline = time.monotonic() + 10
        while started & set(_sleepers(work)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert started & set(_sleepers(work)) == set(), "sandbox processes outlived their worker"
    finally:
        if worker.poll() is None:
            worker.kill()
