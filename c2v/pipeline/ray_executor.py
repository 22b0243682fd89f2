"""The executor of a real run: agents as Ray actors, renders as Ray tasks (see :mod:`cluster`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import ray
import structlog

from c2v.config import RunConfig
from c2v.core.tiers import Tier
from c2v.errors import C2VError, ClusterError, one_line
from c2v.llm.prices import Price
from c2v.llm.settings import ProviderKind, ProviderSettings, require_usable, resolve_provider
from c2v.media.encoders import choose_encoder
from c2v.models import RenderRequest, RenderResult, RenderStatus
from c2v.pipeline.executor import AgentCall, AgentOutcome, AgentSetup, Role, Ticket
from cluster.agents import CoderActor, CriticActor, PlannerActor, agent_options
from cluster.limits import shared_limiter
from cluster.pools import RenderPools
from cluster.runtime import ensure_ray, require_pools
from cluster.tasks import render_task
from sandbox.backends import BackendConfig, resolve_config
from sandbox.render import RenderOutput

#: How long one ray.wait blocks before the loop looks again (keeps the driver interruptible).
WAIT_S = 2.0
#: An agent call lost with its actor (its node died) is sent again, while Ray restarts the
#: actor elsewhere, every AGENT_RETRY_PAUSE_S for up to this many times (about a minute:
#: Ray takes up to ~30 s to declare a node dead).
AGENT_CALL_RESENDS = 30
AGENT_RETRY_PAUSE_S = 2.0

log = structlog.get_logger("c2v.pipeline")


class RayExecutor:
    def __init__(
        self, settings: Callable[[], ProviderSettings], pools: RenderPools, backend: BackendConfig
    ) -> None:
        self._resolve = settings  # resolved on open(): a rerender asks no model and needs none
        self._settings: ProviderSettings | None = None
        self._pools = pools
        self._backend = backend
        self._setup: AgentSetup | None = None
        self._limiter: str | None = None
        self._actors: dict[Role, list[Any]] = {}
        self._coders_wanted = 1
        self._next: dict[Role, int] = {}
        #: In-flight refs: the ticket, the render or agent call behind it, and its resends so far.
        self._pending: dict[Any, tuple[Ticket, RenderRequest | AgentCall, int]] = {}
        self._tickets = 0

    # -- agents ---------------------------------------------------------------------------
    def open(self, setup: AgentSetup) -> None:
        settings = self._settings = self._resolve()
        require_usable(settings)
        self._limiter = None if settings.kind is ProviderKind.offline else shared_limiter(settings)
        self._setup = setup

    def scale_coders(self, n: int) -> None:
        self._coders_wanted = max(1, n)

    def _actor(self, role: Role) -> Any:
        assert self._setup is not None and self._settings is not None, "open() before the first call"
        if role not in self._actors:
            setup = self._setup
            args: tuple[Any, ...] = (self._settings, self._limiter, setup.language)
            cls: Any
            if role is Role.planner:
                cls, count = PlannerActor, 1
            else:
                args = (*args, setup.orientation.value)
                cls = CoderActor if role is Role.coder else CriticActor
                count = self._coders_wanted if role is Role.coder else 1
            options = cls.options(**agent_options())
            self._actors[role] = [options.remote(*args, batch=setup.batch_id) for _ in range(count)]
        pool = self._actors[role]
        n = self._next.get(role, 0)
        self._next[role] = n + 1
        return pool[n % len(pool)]  # round robin over the Coder pool

    def call(self, call: AgentCall) -> Ticket:
        return self._track(self._send(call), call)

    def _send(self, call: AgentCall) -> Any:
        return getattr(self._actor(call.role), call.method).remote(*call.args)

    # -- renders --------------------------------------------------------------------------
    def render(self, request: RenderRequest) -> Ticket:
        pool = self._pools.for_tier(request.tier)
        ref = render_task.options(**pool.task_options()).remote(request, self._backend)
        return self._track(ref, request)

    def render_slots(self, tier: Tier) -> int:
        """Renders of ``tier`` the live cluster fits at once, node by node."""
        return sum(self._pools.for_tier(tier).fits(dict(n.get("Resources") or {})) for n in _alive_nodes())

    # -- the loop -------------------------------------------------------------------------
    def _track(self, ref: Any, item: RenderRequest | AgentCall) -> Ticket:
        self._tickets += 1
        self._pending[ref] = (self._tickets, item, 0)
        return self._tickets

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def wait(self) -> tuple[Ticket, AgentOutcome | RenderOutput]:
        while True:
            ready, _ = ray.wait(list(self._pending), num_returns=1, timeout=WAIT_S)
            if not ready:
                continue
            ref = ready[0]
            ticket, item, resends = self._pending.pop(ref)
            if isinstance(item, RenderRequest):
                return ticket, _render_output(ref, item)
            outcome, actor_lost = _agent_outcome(ref)
            if actor_lost and resends < AGENT_CALL_RESENDS:
                # The reply died with the actor's node; the journal has nothing of it yet.
                log.warning("agent_call_resent", role=item.role.value, method=item.method, resend=resends + 1)
                time.sleep(AGENT_RETRY_PAUSE_S)
                self._pending[self._send(item)] = (ticket, item, resends + 1)
                continue
            return ticket, outcome

    def prices(self) -> Mapping[str, Price] | None:
        return self._settings.prices if self._settings is not None else None


def _alive_nodes() -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = ray.nodes()  # type: ignore[no-untyped-call]
    return [n for n in nodes if n.get("Alive", n.get("alive", False))]


def _agent_outcome(ref: Any) -> tuple[AgentOutcome, bool]:
    """ray.get that hands our own errors from inside an actor back as themselves; the flag
    says the actor itself was lost (its process or node died), so the call may be sent again."""
    try:
        value, replies = ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause if hasattr(exc, "cause") else None
        if isinstance(cause, C2VError):
            return AgentOutcome(error=cause), False
        return AgentOutcome(
            error=ClusterError(f"agent call failed: {one_line(exc, 300, typed=False)}")
        ), False
    except ray.exceptions.RayError as exc:
        # An actor whose constructor failed would fail the same way again: not lost, broken.
        lost = isinstance(exc, ray.exceptions.RayActorError) and not getattr(exc, "actor_init_failed", False)
        return AgentOutcome(error=ClusterError(f"agent actor unavailable: {type(exc).__name__}")), lost
    return AgentOutcome(value=value, replies=list(replies)), False


def _render_output(ref: Any, request: RenderRequest) -> RenderOutput:
    try:
        out: RenderOutput = ray.get(ref)
    except ray.exceptions.RayError as exc:
        result = RenderResult(
            status=RenderStatus.infra_error,
            section_id=request.section_id,
            message=f"render task failed: {one_line(exc, 200)}",
        )
        return RenderOutput(result=result, video=None)
    return out


def start_ray_executor(cfg: RunConfig, tiers: set[Tier]) -> RayExecutor:
    """Join or start Ray for ``cfg`` and check its render pools fit; resolve the backend once."""
    pools = RenderPools.load(cfg.render_pools)
    ensure_ray(cfg.ray_address)
    require_pools(pools, tiers)
    if any(pools.for_tier(t).num_gpus > 0 for t in tiers):
        choose_encoder()  # logs whether a GPU node's renders could encode with NVENC
    llm = cfg.llm

    def settings() -> ProviderSettings:
        return llm if llm is not None else resolve_provider(cfg.api)

    return RayExecutor(settings, pools, resolve_config(cfg.sandbox))
