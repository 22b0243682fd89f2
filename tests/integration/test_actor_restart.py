"""An agent actor that dies is restarted by Ray and answers the next call; it holds no
state of its own (the driver's case folder does), so nothing is lost."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest
import ray

from c2v.models import Outline
from cluster.agents import PlannerActor, agent_options
from cluster.runtime import ensure_ray

pytestmark = [pytest.mark.ray, pytest.mark.integration]


@pytest.fixture(scope="module")
def embedded_ray() -> Iterator[None]:
    if ray.is_initialized():
        ray.shutdown()
    ensure_ray(num_cpus=1)
    yield
    ray.shutdown()


def _pid(actor: object) -> int:
    return int(ray.get(actor.__ray_call__.remote(lambda self: os.getpid())))  # type: ignore[attr-defined]


def test_a_killed_agent_actor_is_restarted(embedded_ray: None) -> None:
    actor = PlannerActor.options(**agent_options()).remote("offline")  # type: ignore[attr-defined]
    outline, replies = ray.get(actor.outline.remote("Binary search"))
    assert isinstance(outline, Outline) and replies
    first = _pid(actor)
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:  # calls made while Ray notices the death are retried (max_task_retries)
        try:
            again, _ = ray.get(actor.outline.remote("Binary search"), timeout=60)
            break
        except ray.exceptions.RayActorError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    assert again == outline
    assert _pid(actor) != first, "the answer came from the killed process"


def test_an_agent_call_lost_with_its_actor_is_sent_again(embedded_ray: None, monkeypatch) -> None:
    """The executor's own resend, with Ray's task retries turned off so only it can recover."""
    from c2v.core.tiers import Orientation
    from c2v.llm.settings import ProviderSettings
    from c2v.pipeline import ray_executor
    from c2v.pipeline.executor import AgentCall, AgentSetup, Role
    from cluster.pools import RenderPools
    from sandbox.backends import BackendConfig
    from sandbox.base import SandboxKind

    monkeypatch.setattr(ray_executor, "agent_options", lambda: {**agent_options(), "max_task_retries": 0})
    monkeypatch.setattr(ray_executor, "AGENT_RETRY_PAUSE_S", 0.5)
    executor = ray_executor.RayExecutor(
        ProviderSettings.offline, RenderPools.parse("{}", "test"), BackendConfig(kind=SandboxKind.bwrap)
    )
    executor.open(AgentSetup(language="en", orientation=Orientation.landscape))
    sent: list[AgentCall] = []
    send = executor._send
    monkeypatch.setattr(executor, "_send", lambda call: (sent.append(call), send(call))[1])

    call = AgentCall(Role.planner, "outline", ("Binary search",))
    first_ticket = executor.call(call)
    _, first = executor.wait()
    assert first.error is None
    actor = executor._actor(Role.planner)
    os.kill(_pid(actor), signal.SIGKILL)
    ticket = executor.call(call)
    got_ticket, outcome = executor.wait()
    assert got_ticket == ticket != first_ticket
    assert outcome.error is None and outcome.value == first.value
    assert len(sent) >= 3, "the call lost with the killed actor was sent again"
