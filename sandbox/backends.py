"""Pick a sandbox backend by name: ``bwrap``, ``docker``, or ``auto`` (Docker when usable)."""

from __future__ import annotations

import structlog

from c2v.errors import ConfigError, SandboxUnavailable
from c2v.models import Strict
from sandbox.base import SandboxBackend, SandboxChoice, SandboxKind
from sandbox.bwrap import BwrapBackend

BACKENDS = tuple(kind.value for kind in SandboxKind)
CHOICES = (*BACKENDS, SandboxChoice.auto.value)

log = structlog.get_logger("c2v.sandbox")


class BackendConfig(Strict):
    """A backend, resolved once on the driver and shipped with every render task.

    Workers build their backend from this alone, never from their own environment.
    """

    kind: SandboxKind
    image: str | None = None  # docker: the sandbox image
    runtime: str | None = None  # docker: an OCI runtime other than runc (e.g. runsc)


def make_backend(name: str | SandboxKind) -> SandboxBackend:
    if name == SandboxKind.bwrap:
        return BwrapBackend()
    if name == SandboxKind.docker:
        from sandbox.docker import DockerBackend  # noqa: PLC0415 - the docker SDK only when asked for

        return DockerBackend()
    raise ConfigError(f"unknown sandbox backend {name!r}; available: {', '.join(CHOICES)}")


def build_backend(config: BackendConfig) -> SandboxBackend:
    """The backend a render task runs in, exactly as the driver resolved it."""
    if config.kind is SandboxKind.docker:
        from sandbox.docker import DockerBackend  # noqa: PLC0415 - the docker SDK only when asked for

        return DockerBackend(image=config.image, runtime=config.runtime or "")
    return BwrapBackend()


def backend_config(backend: SandboxBackend) -> BackendConfig:
    """What a render task needs to build ``backend`` again on a worker."""
    kind = SandboxKind(backend.name)
    if kind is SandboxKind.docker:
        return BackendConfig(
            kind=kind, image=getattr(backend, "image", None), runtime=getattr(backend, "runtime", None)
        )
    return BackendConfig(kind=kind)


def resolve_config(name: str | SandboxChoice) -> BackendConfig:
    """Resolve ``auto`` (and the Docker settings of the environment) once, on the driver."""
    if name == SandboxChoice.auto:
        return backend_config(resolve_backend(SandboxChoice.auto)[0])
    return backend_config(make_backend(name))


def resolve_backend(name: str) -> tuple[SandboxBackend, str]:
    """The backend to use and one line saying why; ``auto`` prefers Docker when it can run.

    Raises SandboxUnavailable (with how to fix it) when the named backend cannot run here.
    """
    if name == SandboxChoice.auto:
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
