"""Containers left by a render worker that died mid-render are found and removed."""

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

pytestmark = [pytest.mark.security, pytest.mark.docker]

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
