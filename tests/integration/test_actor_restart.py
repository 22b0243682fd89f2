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
