"""The driver's event loop: submit jobs to the executor, run each one's continuation when it ends.

Every decision of the pipeline is a continuation: a finished agent call or render hands its
outcome to the callback it was submitted with, which may submit more. :meth:`EventLoop.drain`
runs until nothing is in flight.
"""

from __future__ import annotations

from collections.abc import Callable

from c2v.models import RenderRequest
from c2v.pipeline.executor import AgentCall, AgentOutcome, Executor, Ticket
from sandbox.render import RenderOutput


class EventLoop:
    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self._calls: dict[Ticket, Callable[[AgentOutcome], None]] = {}
        self._renders: dict[Ticket, Callable[[RenderOutput], None]] = {}

    def call(self, call: AgentCall, then: Callable[[AgentOutcome], None]) -> None:
        self._calls[self.executor.call(call)] = then

    def render(self, request: RenderRequest, then: Callable[[RenderOutput], None]) -> None:
        self._renders[self.executor.render(request)] = then

    def drain(self) -> None:
        """Run continuations until nothing is in flight."""
        while self._calls or self._renders:
            ticket, outcome = self.executor.wait()
            if isinstance(outcome, AgentOutcome):
                self._calls.pop(ticket)(outcome)
            else:
                self._renders.pop(ticket)(outcome)
