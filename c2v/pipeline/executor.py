"""The seam under the pipeline: where agent calls and renders run.

The pipeline decides *what* to ask and render; an :class:`Executor` decides *where*: as Ray
actors and tasks (:mod:`c2v.pipeline.ray_executor`) or in this process, one job at a time
(:mod:`c2v.pipeline.inprocess`, what the fast tests and :mod:`c2v.testing` use). The driver
submits jobs, then takes finished ones back one by one with :meth:`Executor.wait`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from c2v.core.tiers import Orientation, Tier
from c2v.errors import C2VError
from c2v.llm.base import LLMReply
from c2v.llm.prices import Price
from c2v.models import RenderRequest
from sandbox.render import RenderOutput

#: What :meth:`Executor.call` and :meth:`Executor.render` return: names one submitted job.
Ticket = int


class Role(StrEnum):
    """The agents of a run (:mod:`c2v.agents`); each call names the one that answers it."""

    planner = "planner"
    coder = "coder"
    critic = "critic"


@dataclass(frozen=True)
class AgentSetup:
    """What every agent of a run is built with."""

    language: str
    orientation: Orientation
    batch_id: str = ""


@dataclass(frozen=True)
class AgentCall:
    """One method call on an agent: ``Planner.outline``, ``Coder.fix_lines``, ``Critic.review``..."""

    role: Role
    method: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class AgentOutcome:
    """A finished agent call: its value and every reply it took, or the error it ended with."""

    value: Any = None
    replies: list[LLMReply] = field(default_factory=list)
    error: C2VError | None = None

    def unwrap(self) -> tuple[Any, list[LLMReply]]:
        if self.error is not None:
            raise self.error
        return self.value, self.replies


class Executor(Protocol):
    def open(self, setup: AgentSetup) -> None:
        """Build the planner and critic (called once, before the first agent call)."""

    def scale_coders(self, n: int) -> None:
        """Size the Coder pool (called once the storyboard says how many sections there are)."""

    def call(self, call: AgentCall) -> Ticket:
        """Submit an agent call; its :class:`AgentOutcome` comes back from :meth:`wait`."""

    def render(self, request: RenderRequest) -> Ticket:
        """Submit a render; its :class:`RenderOutput` comes back from :meth:`wait`.

        A render that could not run at all comes back as an ``infra_error`` result, never raised.
        """

    def render_slots(self, tier: Tier) -> int:
        """How many renders of ``tier`` can run at once (what chunking may fill)."""

    def wait(self) -> tuple[Ticket, AgentOutcome | RenderOutput]:
        """Block until one submitted job finished and return it; only while :attr:`busy`."""

    @property
    def busy(self) -> bool:
        """Whether any submitted job has not come back from :meth:`wait` yet."""

    def prices(self) -> Mapping[str, Price] | None:
        """The price table of the provider the agents use (None: the default table)."""
