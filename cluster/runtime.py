"""Start or join Ray: an embedded local instance by default, a cluster with RAY_ADDRESS."""

from __future__ import annotations

import logging
import os
from typing import Any

import ray

from c2v.errors import ClusterError


def ensure_ray(address: str | None = None, num_cpus: int | None = None) -> dict[str, Any]:
    """Connect this process to Ray once; return the cluster's resources.

    With no ``address`` and no ``RAY_ADDRESS``, a private local Ray instance starts (and
    stops with this process). Operators set ``RAY_ADDRESS`` to join a running cluster.
    """
    if not ray.is_initialized():
        target = address or os.environ.get("RAY_ADDRESS") or None
        kwargs: dict[str, Any] = {
            "namespace": "c2v",
            "logging_level": logging.ERROR,
            "log_to_driver": False,
            "configure_logging": True,
        }
        if target is None:
            kwargs.update(include_dashboard=False, num_cpus=num_cpus or os.cpu_count() or 1)
        try:
            ray.init(address=target, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = target or "a local instance"
            raise ClusterError(f"cannot start or join Ray at {where}: {exc}") from exc
    return dict(ray.cluster_resources())  # type: ignore[no-untyped-call]


def require_resources(needed: dict[str, float]) -> None:
    """Fail fast when no node could ever run a task asking for ``needed``.

    Ray keeps an infeasible request pending forever; checking the cluster's totals first
    turns that into a clear error.
    """
    total = ray.cluster_resources()  # type: ignore[no-untyped-call]
    missing = {k: v for k, v in needed.items() if total.get(k, 0.0) < v}
    if missing:
        have = {k: total.get(k, 0.0) for k in missing}
        raise ClusterError(
            f"no Ray node offers the resources a render needs: wanted {missing}, cluster has {have}"
        )
