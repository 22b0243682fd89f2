"""The rate limit shared by every agent actor of a run: one named Ray actor per provider.

The driver creates (or finds) the actor and hands its name to every Planner, Coder and
Critic actor; each of them asks it before an HTTP request (:class:`RayRateGate`). The actor only
does bookkeeping (:class:`c2v.llm.ratelimit.RateWindow`) and never blocks, so one actor
serves any number of callers; the callers sleep on their own side. Pipelines in the same
Ray job (many topics in one batch) find the same actor by name and share its limits.
"""

from __future__ import annotations

from typing import Any

import ray

from c2v.llm.ratelimit import RateWindow
from c2v.llm.settings import ProviderSettings


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)
class RateLimiter:
    def __init__(self, rpm: int | None, tpm: int | None) -> None:
        self._window = RateWindow(rpm, tpm)

    def configure(self, rpm: int | None, tpm: int | None) -> None:
        self._window.configure(rpm, tpm)

    def reserve(self, tokens: int) -> tuple[int, float]:
        return self._window.reserve(tokens)

    def settle(self, ticket: int, tokens: int) -> None:
        self._window.settle(ticket, tokens)

    def hold(self, seconds: float) -> None:
        self._window.hold(seconds)


def limiter_name(settings: ProviderSettings) -> str:
    return f"c2v-llm-limit-{settings.name}"


#: Handles the driver holds, so the named actors live as long as the driver (a named actor
#: without handles would be collected).
_HELD: dict[str, Any] = {}


def shared_limiter(settings: ProviderSettings) -> str:
    """Create (or find) the limiter for ``settings``'s provider; return its name (Ray must be up).

    Agent actors get the name, not the handle: an actor handle among a restartable actor's
    constructor arguments would pin them in the object store.
    """
    name = limiter_name(settings)
    held = f"{ray.get_runtime_context().get_job_id()}/{name}"  # a new Ray job starts afresh
    if held not in _HELD:  # keep the first handle: dropping the creator's handle ends the actor
        _HELD[held] = RateLimiter.options(name=name, get_if_exists=True).remote(  # type: ignore[attr-defined]
            settings.rpm, settings.tpm
        )
    ray.get(_HELD[held].configure.remote(settings.rpm, settings.tpm))
    return name


class RayRateGate:
    """A :class:`c2v.llm.ratelimit.RateGate` that asks the shared limiter actor, found by name."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._handle: Any = None

    @property
    def handle(self) -> Any:
        if self._handle is None:
            self._handle = ray.get_actor(self._name)
        return self._handle

    def reserve(self, tokens: int) -> tuple[int, float]:
        ticket, wait = ray.get(self.handle.reserve.remote(tokens))
        return int(ticket), float(wait)

    def settle(self, ticket: int, tokens: int) -> None:
        self.handle.settle.remote(ticket, tokens)  # fire and forget: nothing waits on it

    def hold(self, seconds: float) -> None:
        self.handle.hold.remote(seconds)
