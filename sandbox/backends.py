"""Pick a sandbox backend by name."""

from __future__ import annotations

from c2v.errors import ConfigError, SandboxUnavailable
from sandbox.base import SandboxBackend
from sandbox.bwrap import BwrapBackend

BACKENDS = ("bwrap",)


def make_backend(name: str) -> SandboxBackend:
    if name == "bwrap":
        return BwrapBackend()
    raise ConfigError(f"unknown sandbox backend {name!r}; available: {', '.join(BACKENDS)}")


def check_backend(name: str) -> SandboxBackend:
    backend = make_backend(name)
    reason = backend.unavailable_reason()
    if reason is not None:
        raise SandboxUnavailable(f"sandbox {name!r} cannot run here: {reason}")
    return backend
