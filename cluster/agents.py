"""Agents as Ray actors. They call models and parse replies; they never touch the case folder.

Every actor method runs in :func:`logged_call`: the worker's log context is cleared and bound
to this call's ids (batch, agent role, topic, section, attempt or critic round) before the
call, so lines of an earlier call on the same worker never carry over.
"""

from __future__ import annotations

import functools
import inspect
import os
import time
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar

import ray
import structlog

from c2v.agents.coder import Coder
from c2v.agents.critic import Critic
from c2v.agents.planner import Planner
from c2v.core.logs import task_context
from c2v.core.slug import slugify
from c2v.errors import ConfigError
from c2v.llm.base import LLMClient, LLMReply
from c2v.llm.registry import make_llm
from c2v.llm.settings import ProviderSettings
from c2v.models import (
    CriticReport,
    LayoutIssue,
    Outline,
    PlannedOutline,
    PlannedStoryboard,
    RenderResult,
    SectionImage,
    Storyboard,
    StoryboardSection,
)
from cluster.limits import RayRateGate

log = structlog.get_logger("c2v.agent")

#: LLM calls wait on the network, not the CPU: by default agent actors reserve no CPU.
AGENT_OPTIONS: dict[str, Any] = {"num_cpus": 0, "max_restarts": 2, "max_task_retries": 2}
#: Operator knob: CPUs each agent actor reserves (default 0), e.g. to cap actors per node.
AGENT_CPUS_ENV = "C2V_AGENT_NUM_CPUS"


def parse_agent_cpus(env: Mapping[str, str]) -> float:
    raw = env.get(AGENT_CPUS_ENV, "").strip()
    if not raw:
        return float(AGENT_OPTIONS["num_cpus"])
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{AGENT_CPUS_ENV}={raw!r} is not a number") from None
    if value < 0:
        raise ConfigError(f"{AGENT_CPUS_ENV}={raw!r} must not be negative")
    return value


@cache
def agent_options() -> dict[str, Any]:
    """Options for ``SomeActor.options(...)``: the CPUs from ``C2V_AGENT_NUM_CPUS``, parsed once."""
    return {"num_cpus": parse_agent_cpus(os.environ)}


def _model(provider: ProviderSettings | str, role: str, limiter: str | None) -> LLMClient:
    """The role's model, pacing itself through the run's shared rate limiter (if any)."""
    return make_llm(provider, role, RayRateGate(limiter) if limiter is not None else None)


class _Agent:
    """What :func:`logged_call` reads from an actor: its role and the batch it serves."""

    role: ClassVar[str] = ""
    batch: str = ""


_A = TypeVar("_A", bound=_Agent)
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _call_ids(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The ids of one agent call, read from its arguments by name.

    ``attempt`` matches the render task's: a Coder call given ``attempt`` = the number of
    failed attempts writes the code of attempt ``attempt + 1`` (a first ``write`` gets 1);
    calls that produce no attempt (planning, critic review) log 0, with ``round`` for critic rounds.
    """
    ids: dict[str, Any] = {}
    topic = arguments.get("topic")
    if isinstance(topic, str) and topic:
        ids["topic"] = slugify(topic)  # the case folder's name, as render tasks log it
    section = arguments.get("section")
    section_id = section.id if isinstance(section, StoryboardSection) else arguments.get("section_id")
    if section_id:
        ids["section"] = section_id
    if "attempt" in arguments:  # a Coder call: its code is rendered as the section's next attempt
        failed = arguments["attempt"]
        ids["attempt"] = (failed if isinstance(failed, int) else 0) + 1
    else:
        ids["attempt"] = 0
    if isinstance(arguments.get("round_"), int):
        ids["round"] = arguments["round_"]
    return ids


def logged_call(method: Callable[Concatenate[_A, _P], _R]) -> Callable[Concatenate[_A, _P], _R]:
    """Run an actor method with its own log context and start/done lines (never its arguments)."""
    signature = inspect.signature(method)

    @functools.wraps(method)
    def call(agent: _A, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        ids = _call_ids(signature.bind(agent, *args, **kwargs).arguments)
        with task_context(batch=agent.batch, agent=agent.role, call=method.__name__, **ids):
            started = time.monotonic()
            log.info("agent_call_start")
            try:
                result = method(agent, *args, **kwargs)
            except Exception as exc:
                log.warning(
                    "agent_call_failed", error=type(exc).__name__, wall_s=round(time.monotonic() - started, 3)
                )
                raise
            log.info("agent_call_done", wall_s=round(time.monotonic() - started, 3))
            return result

    return call


@ray.remote(**AGENT_OPTIONS)
class PlannerActor(_Agent):
    role = "planner"

    def __init__(
        self,
        provider: ProviderSettings | str,
        limiter: str | None = None,
        language: str = "en",
        *,
        batch: str = "",
    ) -> None:
        self.batch = batch
        self._planner = Planner(_model(provider, "planner", limiter), language)

    @logged_call
    def outline(self, topic: str) -> tuple[Outline, list[LLMReply]]:
        return self._planner.outline(topic)

    @logged_call
    def storyboard(self, topic: str, outline: Outline) -> tuple[Storyboard, list[LLMReply]]:
        return self._planner.storyboard(topic, outline)

    @logged_call
    def planned_outline(self, topic: str) -> tuple[PlannedOutline, list[LLMReply]]:
        return self._planner.planned_outline(topic)

    @logged_call
    def planned_storyboard(self, topic: str, outline: Outline) -> tuple[PlannedStoryboard, list[LLMReply]]:
        return self._planner.planned_storyboard(topic, outline)


@ray.remote(**AGENT_OPTIONS)
class CoderActor(_Agent):
    role = "coder"

    def __init__(
        self,
        provider: ProviderSettings | str,
        limiter: str | None = None,
        language: str = "en",
        orientation: str = "landscape",
        *,
        batch: str = "",
    ) -> None:
        self.batch = batch
        self._coder = Coder(_model(provider, "coder", limiter), language, orientation)

    @logged_call
    def write(
        self,
        topic: str,
        section: StoryboardSection,
        total: int,
        previous_failure: str | None,
        attempt: int | None,
        images: list[SectionImage] | None = None,
    ) -> tuple[str, list[LLMReply]]:
        return self._coder.write(topic, section, total, previous_failure, attempt, images)

    @logged_call
    def fix_lines(
        self, topic: str, section_id: str, code: str, failure: RenderResult, attempt: int
    ) -> tuple[str, list[LLMReply]]:
        return self._coder.fix_lines(topic, section_id, code, failure, attempt)

    @logged_call
    def fix_file(
        self, topic: str, section_id: str, code: str, failure: RenderResult, attempt: int
    ) -> tuple[str, list[LLMReply]]:
        return self._coder.fix_file(topic, section_id, code, failure, attempt)

    @logged_call
    def revise(
        self, topic: str, section_id: str, code: str, issues: list[str], round_: int
    ) -> tuple[str, list[LLMReply]]:
        return self._coder.revise(topic, section_id, code, issues, round_)


@ray.remote(**AGENT_OPTIONS)
class CriticActor(_Agent):
    role = "critic"

    def __init__(
        self,
        provider: ProviderSettings | str,
        limiter: str | None = None,
        language: str = "en",
        orientation: str = "landscape",
        *,
        batch: str = "",
    ) -> None:
        self.batch = batch
        self._critic = Critic(_model(provider, "critic", limiter), language, orientation)

    @logged_call
    def review(
        self,
        topic: str,
        section: StoryboardSection,
        code: str,
        lint: list[LayoutIssue],
        keyframes: list[bytes],
        video: bytes | None,
        round_: int,
    ) -> tuple[CriticReport, list[LLMReply]]:
        return self._critic.review(topic, section, code, lint, keyframes, video, round_)
