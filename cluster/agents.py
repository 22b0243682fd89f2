"""Agents as Ray actors. They call models and parse replies; they never touch the case folder."""

from __future__ import annotations

from typing import Any

import ray

from c2v.agents.coder import Coder
from c2v.agents.critic import Critic
from c2v.agents.planner import Planner
from c2v.llm.base import LLMClient, LLMReply
from c2v.llm.registry import make_llm
from c2v.llm.settings import ProviderSettings
from c2v.models import CriticReport, LayoutIssue, Outline, RenderResult, Storyboard, StoryboardSection
from cluster.limits import RayRateGate

#: LLM calls wait on the network, not the CPU: agent actors reserve no CPU.
AGENT_OPTIONS: dict[str, Any] = {"num_cpus": 0, "max_restarts": 2, "max_task_retries": 2}


def _model(provider: ProviderSettings | str, role: str, limiter: str | None) -> LLMClient:
    """The role's model, pacing itself through the run's shared rate limiter (if any)."""
    return make_llm(provider, role, RayRateGate(limiter) if limiter is not None else None)


@ray.remote(**AGENT_OPTIONS)
class PlannerActor:
    def __init__(
        self, provider: ProviderSettings | str, limiter: str | None = None, language: str = "en"
    ) -> None:
        self._planner = Planner(_model(provider, "planner", limiter), language)

    def outline(self, topic: str) -> tuple[Outline, list[LLMReply]]:
        return self._planner.outline(topic)

    def storyboard(self, topic: str, outline: Outline) -> tuple[Storyboard, list[LLMReply]]:
        return self._planner.storyboard(topic, outline)


@ray.remote(**AGENT_OPTIONS)
class CoderActor:
    def __init__(
        self,
        provider: ProviderSettings | str,
        limiter: str | None = None,
        language: str = "en",
        orientation: str = "landscape",
    ) -> None:
        self._coder = Coder(_model(provider, "coder", limiter), language, orientation)

    def write(
        self,
        topic: str,
        section: StoryboardSection,
        total: int,
        previous_failure: str | None,
        attempt: int | None,
    ) -> tuple[str, list[LLMReply]]:
        return self._coder.write(topic, section, total, previous_failure, attempt)

    def fix_lines(
        self, topic: str, section_id: str, code: str, failure: RenderResult, attempt: int
    ) -> tuple[str, list[LLMReply]]:
        return self._coder.fix_lines(topic, section_id, code, failure, attempt)

    def fix_file(
        self, topic: str, section_id: str, code: str, failure: RenderResult, attempt: int
    ) -> tuple[str, list[LLMReply]]:
        return self._coder.fix_file(topic, section_id, code, failure, attempt)

    def revise(
        self, topic: str, section_id: str, code: str, issues: list[str], round_: int
    ) -> tuple[str, list[LLMReply]]:
        return self._coder.revise(topic, section_id, code, issues, round_)


@ray.remote(**AGENT_OPTIONS)
class CriticActor:
    def __init__(
        self,
        provider: ProviderSettings | str,
        limiter: str | None = None,
        language: str = "en",
        orientation: str = "landscape",
    ) -> None:
        self._critic = Critic(_model(provider, "critic", limiter), language, orientation)

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
