"""An executor in this process: agents as plain objects, renders one at a time, in order.

Jobs run when :meth:`InProcessExecutor.wait` is called, first submitted first, so a run
through it is deterministic. It takes any :class:`~c2v.llm.base.LLMClient` and any
:class:`~sandbox.base.SandboxBackend`: :mod:`c2v.testing` has scripted ones of both.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from c2v.agents.coder import Coder
from c2v.agents.critic import Critic
from c2v.agents.planner import Planner
from c2v.core.tiers import Tier
from c2v.errors import C2VError, one_line
from c2v.llm.base import LLMClient
from c2v.llm.prices import Price
from c2v.models import RenderRequest, RenderResult, RenderStatus
from c2v.pipeline.executor import AgentCall, AgentOutcome, AgentSetup, Role, Ticket
from sandbox.base import SandboxBackend
from sandbox.render import RenderOutput, render_scene


class InProcessExecutor:
    def __init__(
        self,
        llm: LLMClient | Mapping[Role, LLMClient],
        backend: SandboxBackend,
        prices: Mapping[str, Price] | None = None,
    ) -> None:
        """``llm``: one client for every agent, or one per role."""
        self._llm = dict(llm) if isinstance(llm, Mapping) else dict.fromkeys(Role, llm)
        self.backend = backend
        self._prices = prices
        self._agents: dict[Role, Any] = {}
        self._queue: deque[tuple[Ticket, Callable[[], AgentOutcome | RenderOutput]]] = deque()
        self._tickets = 0
        #: Every agent call and render request, in the order they ran (for tests to read).
        self.calls: list[AgentCall] = []
        self.renders: list[RenderRequest] = []

    def open(self, setup: AgentSetup) -> None:
        llm, orientation = self._llm, setup.orientation.value
        self._agents = {
            Role.planner: Planner(llm[Role.planner], setup.language),
            Role.coder: Coder(llm[Role.coder], setup.language, orientation),
            Role.critic: Critic(llm[Role.critic], setup.language, orientation),
        }

    def scale_coders(self, n: int) -> None:
        pass  # one Coder answers every call, one at a time

    def call(self, call: AgentCall) -> Ticket:
        def run() -> AgentOutcome:
            self.calls.append(call)
            try:
                value, replies = getattr(self._agents[call.role], call.method)(*call.args)
            except C2VError as exc:
                return AgentOutcome(error=exc)
            return AgentOutcome(value=value, replies=list(replies))

        return self._push(run)

    def render(self, request: RenderRequest) -> Ticket:
        def run() -> RenderOutput:
            self.renders.append(request)
            try:
                return render_scene(request, self.backend)
            except Exception as exc:  # a crashed render task, as Ray reports one
                message = f"render task failed: {one_line(exc, 200)}"
                result = RenderResult(
                    status=RenderStatus.infra_error, section_id=request.section_id, message=message
                )
                return RenderOutput(result=result, video=None)

        return self._push(run)

    def render_slots(self, tier: Tier) -> int:
        return 1  # one job at a time

    def _push(self, job: Callable[[], AgentOutcome | RenderOutput]) -> Ticket:
        self._tickets += 1
        self._queue.append((self._tickets, job))
        return self._tickets

    @property
    def busy(self) -> bool:
        return bool(self._queue)

    def wait(self) -> tuple[Ticket, AgentOutcome | RenderOutput]:
        ticket, job = self._queue.popleft()
        return ticket, job()

    def prices(self) -> Mapping[str, Price] | None:
        return self._prices
