"""Pick a sandbox backend by name: ``bwrap``, ``docker``, or ``auto`` (Docker when usable)."""

from __future__ import annotations

import structlog

from c2v.errors import ConfigError, SandboxUnavailable
from sandbox.base import SandboxBackend
from sandbox.bwrap import BwrapBackend

BACKENDS = ("bwrap", "docker")
CHOICES = (*BACKENDS, "auto")

log = structlog.get_logger("c2v.sandbox")


def make_backend(name: str) -> SandboxBackend:
    if name == "bwrap":
        return BwrapBackend()
    if name == "docker":
        from sandbox.docker import DockerBackend  # noqa: PLC0415 - the docker SDK only when asked for

        return DockerBackend()
    raise ConfigError(f"unknown sandbox backend {name!r}; available: {', '.join(CHOICES)}")


def resolve_backend(name: str) -> tuple[SandboxBackend, str]:
    """The backend to use and one line saying why; ``auto`` prefers Docker when it can run.

    Raises SandboxUnavailable (with how to fix it) when the named backend cannot run here.
    """
    if name == "auto":
        docker_backend = make_backend("docker")
        reason = docker_backend.unavailable_reason()
        if reason is None:
            return docker_backend, "sandbox: docker (auto: the engine answers and the image exists)"
        fallback = check_backend("bwrap")
        return fallback, f"sandbox: bwrap (Docker not used: {reason})"
    backend = check_backend(name)
    return backend, f"sandbox: {backend.name}"


def check_backend(name: str) -> SandboxBackend:
    backend = make_backend(name)
    reason = backend.unavailable_reason()
    if reason is not None:
        hint = "; or use --sandbox bwrap" if name == "docker" else ""
        raise SandboxUnavailable(f"sandbox {name!r} cannot run here: {reason}{hint}")
    return backend
