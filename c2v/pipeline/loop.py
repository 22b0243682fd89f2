"""The driver's event loop: submit jobs to the executor, run each one's continuation when it ends.

Every decision of the pipeline is a continuation: a finished agent call or render hands its
outcome to the callback it was submitted with, which may submit more. :meth:`EventLoop.drain`
runs until nothing is in flight. Renders submitted inside :meth:`EventLoop.background` (the
final tier of sections the critic froze early), and whatever their continuations submit, do
not hold a drain up: they finish while later work runs, or in ``drain(background=True)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from c2v.models import RenderRequest
from c2v.pipeline.executor import AgentCall, AgentOutcome, Executor, Ticket
from sandbox.render import RenderOutput


class EventLoop:
    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self._calls: dict[Ticket, Callable[[AgentOutcome], None]] = {}
        self._renders: dict[Ticket, Callable[[RenderOutput], None]] = {}
        self._background: set[Ticket] = set()
        self._in_background = False

    def call(self, call: AgentCall, then: Callable[[AgentOutcome], None]) -> None:
        self._calls[self.executor.call(call)] = then

    def render(self, request: RenderRequest, then: Callable[[RenderOutput], None]) -> None:
        ticket = self.executor.render(request)
        self._renders[ticket] = then
        if self._in_background:
            self._background.add(ticket)

    @contextmanager
    def background(self) -> Iterator[None]:
        """Renders submitted in this block (and by their continuations) are background work."""
        before, self._in_background = self._in_background, True
        try:
            yield
        finally:
            self._in_background = before

    def drain(self, background: bool = False) -> None:
        """Run continuations until nothing is in flight (background renders only if ``background``)."""
        while self._calls or len(self._renders) > (0 if background else len(self._background)):
            ticket, outcome = self.executor.wait()
            if isinstance(outcome, AgentOutcome):
                self._calls.pop(ticket)(outcome)
            elif ticket in self._background:
                self._background.discard(ticket)
                with self.background():
                    self._renders.pop(ticket)(outcome)
            else:
                self._renders.pop(ticket)(outcome)
