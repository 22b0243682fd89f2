"""Start or join Ray: an embedded local instance by default, a cluster with RAY_ADDRESS.

Every worker process of the job runs :data:`c2v.core.logs.WORKER_SETUP_HOOK` first, so render
tasks and agent actors log JSON lines with their batch, topic, section and attempt ids.

Ray keeps a task whose resources no node offers pending forever, so a run checks its render
pools against the live nodes before submitting anything (:func:`require_pools`). Autoscaling
clusters that add nodes on demand opt out with ``C2V_ALLOW_PENDING_RESOURCES=1``.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import ray

from c2v.core.logs import WORKER_SETUP_HOOK, worker_level
from c2v.core.tiers import Tier
from c2v.errors import ClusterError
from cluster.pools import POOLS_ENV, RenderPools

#: Operator knob: ``1`` lets requests no node can serve yet wait (for an autoscaler).
ALLOW_PENDING_ENV = "C2V_ALLOW_PENDING_RESOURCES"


def ensure_ray(
    address: str | None = None, num_cpus: int | None = None, resources: dict[str, float] | None = None
) -> dict[str, Any]:
    """Connect this process to Ray once; return the cluster's resources.

    With no ``address`` and no ``RAY_ADDRESS``, a private local Ray instance starts (and
    stops with this process) with ``num_cpus`` CPUs and the custom ``resources`` given.
    Operators set ``RAY_ADDRESS`` to join a running cluster. Either way every worker process
    configures structured logging first (:func:`c2v.core.logs.configure_worker_logging`).
    """
    if not ray.is_initialized():
        worker_level()  # a bad C2V_LOG_LEVEL fails here, once, not in every worker
        target = address or os.environ.get("RAY_ADDRESS") or None
        kwargs: dict[str, Any] = {
            "namespace": "c2v",
            "logging_level": logging.ERROR,
            "log_to_driver": False,
            "configure_logging": True,
            "runtime_env": {"worker_process_setup_hook": WORKER_SETUP_HOOK},
        }
        if target is None:
            kwargs.update(
                include_dashboard=False, num_cpus=num_cpus or os.cpu_count() or 1, resources=resources
            )
        try:
            # "local" always starts a private instance; None would join any cluster that
            # `ray start` left running on this machine.
            ray.init(address=target or "local", **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = target or "a local instance"
            raise ClusterError(f"cannot start or join Ray at {where}: {exc}") from exc
    return dict(ray.cluster_resources())  # type: ignore[no-untyped-call]


def allow_pending(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get(ALLOW_PENDING_ENV, "").strip().lower() in {"1", "true", "yes"}


def _fits(needed: Mapping[str, float], offer: Mapping[str, float]) -> bool:
    return all(offer.get(name, 0.0) >= amount for name, amount in needed.items())


def best_node(needed: Mapping[str, float], nodes: Sequence[Mapping[str, Any]]) -> dict[str, float] | None:
    """The resources of the alive node that could run a task asking for ``needed``, if any.

    ``nodes`` are ``ray.nodes()`` entries. When none fits, the node that has the most of the
    asked-for resources is returned instead (by how many it covers, then by CPUs), so an
    error can say what the cluster offers; ``None`` when no node is alive.
    """
    alive = [dict(n.get("Resources") or {}) for n in nodes if n.get("Alive", n.get("alive", False))]
    if not alive:
        return None
    for offer in alive:
        if _fits(needed, offer):
            return offer

    def score(offer: dict[str, float]) -> tuple[int, float]:
        covered = sum(1 for name, amount in needed.items() if offer.get(name, 0.0) >= amount)
        return covered, offer.get("CPU", 0.0)

    return max(alive, key=score)


def infeasible(needed: Mapping[str, float], nodes: Sequence[Mapping[str, Any]]) -> str | None:
    """Why no alive node can run a task asking for ``needed`` at once, or ``None`` if one can."""
    offer = best_node(needed, nodes)
    if offer is None:
        return "no Ray node is alive"
    if _fits(needed, offer):
        return None
    shown = {name: offer.get(name, 0.0) for name in needed}
    return f"the best node offers {_fmt(shown)}"


def require_resources(needed: Mapping[str, float], what: str = "a render") -> None:
    """Fail fast when no single alive node could run a task asking for ``needed``.

    Ray keeps an infeasible request pending forever. Totals over the cluster are not
    enough (one GPU on node A and ``render_gpu`` on node B serve no task), so each node is
    checked on its own.
    """
    if not needed or allow_pending():
        return
    why = infeasible(needed, ray.nodes())  # type: ignore[no-untyped-call]
    if why is not None:
        raise ClusterError(
            f"{what} asks for {_fmt(needed)} but no Ray node has all of it ({why}); start a node "
            f"with `{_start_hint(needed)}`, change {POOLS_ENV} or --render-pools, or set "
            f"{ALLOW_PENDING_ENV}=1 if an autoscaler will add one"
        )


def require_pools(pools: RenderPools, tiers: Iterable[Tier]) -> None:
    """Check the render pool of every tier a run will render at against the live nodes."""
    for tier in dict.fromkeys(Tier(t) for t in tiers):
        require_resources(pools.for_tier(tier).demand(), f"the render pool of tier {tier.value}")


def _start_hint(needed: Mapping[str, float]) -> str:
    """The ``ray start`` flags of a node that could serve ``needed``."""
    flags = ["ray start --address=HEAD"]
    if "CPU" in needed:
        flags.append(f"--num-cpus={math.ceil(needed['CPU'])}")
    if "GPU" in needed:
        flags.append(f"--num-gpus={math.ceil(needed['GPU'])}")
    if "memory" in needed:
        flags.append(f"--memory={math.ceil(needed['memory'])}")
    custom = {name: amount for name, amount in needed.items() if name not in {"CPU", "GPU", "memory"}}
    if custom:
        flags.append(f"--resources='{_fmt(custom)}'")
    return " ".join(flags)


def _fmt(resources: Mapping[str, float]) -> str:
    return json.dumps({name: _num(amount) for name, amount in resources.items()}, sort_keys=True)


def _num(amount: float) -> float | int:
    return int(amount) if float(amount).is_integer() else amount
