"""The Docker backend: each render in a hardened, throw-away container.

The container has no network, a read-only root filesystem, tmpfs /tmp and home, the
section's work dir as its only writable mount, no capabilities, no privilege gain, a
non-root user, and limits on pids, memory (no swap), CPU and log size. docker-py has no
overall timeout, so the container runs detached under an in-container ``timeout -s KILL``
and the host waits with a deadline of its own; either way the container is removed.

Every container carries labels naming the case, section and the worker process that
started it, so :func:`reap_orphans` can remove containers left by a worker that was
killed before its ``finally`` ran.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import socket
import time
from functools import cache
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions
from docker.models.containers import Container
from docker.types import LogConfig, Ulimit

from c2v.errors import one_line
from c2v.models import SandboxLimits
from sandbox.base import INSIDE_WORKDIR, TAIL_BYTES, ProcessOutcome, chown_tree
from sandbox.image import IMAGE_PYTHON, IMAGE_UID, image_tag
from sandbox.quota import DiskWatch

#: Uid:gid the scene runs as when c2v runs as root (the image's unprivileged user).
IMAGE_USER = f"{IMAGE_UID}:{IMAGE_UID}"
LOG_MAX = "1m"  # docker keeps at most this much of a flood on disk
LABEL = "c2v.sandbox"
#: Seconds the host waits beyond the in-container timeout before killing the container.
GRACE_S = 10.0
_CONNECT_TIMEOUT_S = 10


def runtime_setting() -> str | None:
    """An OCI runtime other than runc (e.g. ``runsc`` for gVisor), from C2V_DOCKER_RUNTIME."""
    return os.environ.get("C2V_DOCKER_RUNTIME") or None


@cache
def image_setting() -> str:
    """The sandbox image: C2V_SANDBOX_IMAGE, else the tag the current definition builds."""
    return os.environ.get("C2V_SANDBOX_IMAGE") or image_tag()


class DockerBackend:
    name = "docker"
    python = IMAGE_PYTHON

    def __init__(self, image: str | None = None, runtime: str | None = None) -> None:
        self.image = image or image_setting()
        self.runtime = runtime if runtime is not None else runtime_setting()
        self._client: docker.DockerClient | None = None

    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = docker.from_env(timeout=_CONNECT_TIMEOUT_S)
        return self._client

    def unavailable_reason(self) -> str | None:
        try:
            client = self.client()
            client.ping()
        except docker.errors.DockerException as exc:
            return _engine_down_reason(exc)
        try:
            client.images.get(self.image)
        except docker.errors.ImageNotFound:
            return f"the sandbox image {self.image} is not built yet; `make sandbox-image` builds it"
        except docker.errors.APIError as exc:
            return f"cannot inspect the sandbox image {self.image}: {exc.explanation or exc}"
        if self.runtime and self.runtime not in (client.info().get("Runtimes") or {}):
            return f"the Docker engine has no runtime {self.runtime!r} (C2V_DOCKER_RUNTIME)"
        return None

    def container_options(
        self, workdir: Path, env: dict[str, str], limits: SandboxLimits, labels: dict[str, str]
    ) -> dict[str, Any]:
        """Keyword arguments for ``containers.run`` (exposed for tests and `c2v doctor`)."""
        mb = 1024 * 1024
        options: dict[str, Any] = {
            "detach": True,
            "network_mode": "none",
            "read_only": True,
            "tmpfs": {
                "/tmp": f"rw,nosuid,nodev,size={limits.tmp_mb}m,mode=1777",  # noqa: S108 - the container's own
                "/home/c2v": f"rw,nosuid,nodev,size={limits.tmp_mb}m,mode=1777",
            },
            "volumes": {str(workdir): {"bind": INSIDE_WORKDIR, "mode": "rw"}},
            "working_dir": INSIDE_WORKDIR,
            "environment": env,
            "user": IMAGE_USER if os.geteuid() == 0 else f"{os.geteuid()}:{os.getegid()}",
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "pids_limit": limits.processes,
            "mem_limit": limits.memory_mb * mb,
            "memswap_limit": limits.memory_mb * mb,  # equal to mem_limit: no swap
            "nano_cpus": int(limits.cpus * 1e9),
            "ulimits": [
                Ulimit(name="cpu", soft=limits.cpu_s, hard=limits.cpu_s),
                Ulimit(name="fsize", soft=limits.file_mb * mb, hard=limits.file_mb * mb),
                Ulimit(name="core", soft=0, hard=0),
                Ulimit(name="nofile", soft=1024, hard=1024),
            ],
            "init": True,
            "ipc_mode": "private",
            "log_config": LogConfig(type="json-file", config={"max-size": LOG_MAX, "max-file": "1"}),
            "labels": {
                LABEL: "1",
                "c2v.worker-host": socket.gethostname(),
                "c2v.worker-pid": str(os.getpid()),
                "c2v.deadline": str(int(time.time() + limits.wall_s + GRACE_S)),
                **labels,
            },
        }
        if self.runtime:
            options["runtime"] = self.runtime
        return options

    def run(
        self,
        workdir: Path,
        argv: list[str],
        env: dict[str, str],
        limits: SandboxLimits,
        labels: dict[str, str] | None = None,
    ) -> ProcessOutcome:
        started = time.monotonic()
        reap_once()
        if os.geteuid() == 0:
            chown_tree(workdir, IMAGE_UID)
        command = ["timeout", "-s", "KILL", f"{math.ceil(limits.wall_s)}s", *argv]
        options = self.container_options(workdir, env, limits, labels or {})
        container: Container | None = None
        try:
            container = self.client().containers.run(self.image, command, **options)
            quota = DiskWatch(workdir, limits.workdir_mb * 1024 * 1024, lambda: _kill(container))
            timed_out = False
            with quota:
                try:
                    status = container.wait(timeout=limits.wall_s + GRACE_S)
                    code: int | None = int(status.get("StatusCode", -1))
                except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
                    timed_out, code = True, None
                    _kill(container)
            container.reload()
            state = container.attrs.get("State", {})
            oom = bool(state.get("OOMKilled"))
            wall = time.monotonic() - started
            # `timeout -s KILL` ends the scene with 137, as the OOM killer does: tell them apart.
            if code == 137 and not oom and wall >= limits.wall_s:
                timed_out = True
            stdout = _tail(container.logs(stdout=True, stderr=False))
            stderr = _tail(container.logs(stdout=False, stderr=True))
        except docker.errors.ImageNotFound:
            return _infra(started, f"the sandbox image {self.image} is missing: run `make sandbox-image`")
        except docker.errors.DockerException as exc:
            return _infra(started, f"docker failed: {one_line(exc, 200)}")
        finally:
            if container is not None:
                _remove(container)
        signal_no = code - 128 if code is not None and code > 128 and not timed_out else None
        return ProcessOutcome(
            exit_code=None if signal_no is not None else code,
            signal=signal_no,
            timed_out=timed_out,
            stdout_tail=stdout,
            stderr_tail=stderr,
            wall_s=wall,
            oom_killed=oom,
            policy_violation=quota.exceeded,
        )


def _infra(started: float, message: str) -> ProcessOutcome:
    return ProcessOutcome(None, None, False, "", "", time.monotonic() - started, infra_error=message)


def _tail(data: bytes) -> str:
    return data[-TAIL_BYTES:].decode("utf-8", errors="replace")


def _kill(container: Container | None) -> None:
    if container is not None:
        with contextlib.suppress(docker.errors.DockerException, requests.exceptions.RequestException):
            container.kill()


def _remove(container: Container) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        container.remove(force=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_orphans(client: docker.DockerClient | None = None) -> list[str]:
    """Remove sandbox containers whose worker died (on this host) or whose deadline passed.

    Returns the removed containers' short ids. Safe to run at any time: a live worker's
    container within its deadline is left alone.
    """
    client = client or docker.from_env(timeout=_CONNECT_TIMEOUT_S)
    host, now, removed = socket.gethostname(), time.time(), []
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        labels = container.labels
        try:
            pid, deadline = int(labels.get("c2v.worker-pid", "0")), float(labels.get("c2v.deadline", "0"))
        except ValueError:
            pid, deadline = 0, 0.0
        mine = labels.get("c2v.worker-host") == host
        if mine and pid == os.getpid():
            continue
        if (mine and not _pid_alive(pid)) or now > deadline + GRACE_S:
            _remove(container)
            removed.append(container.short_id)
    return removed


@cache
def reap_once() -> None:
    """Reap orphans the first time a worker process uses the Docker backend."""
    with contextlib.suppress(docker.errors.DockerException, requests.exceptions.RequestException):
        reap_orphans()


def _engine_down_reason(exc: docker.errors.DockerException) -> str:
    """A short line a newcomer can act on, not the SDK's nested exception repr."""
    text = str(exc)
    if shutil.which("dockerd") is None:
        return "docker.io is not installed; `make sandbox-image` installs it, starts it, builds the image"
    if "FileNotFoundError" in text or "ConnectionRefused" in text or "No such file" in text:
        return "the Docker engine is not running; `make sandbox-image` starts it and builds the image"
    return f"the Docker engine does not answer: {one_line(exc, 120, typed=False)}"
