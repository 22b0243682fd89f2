"""Render pools and worker logs against a real embedded Ray (one CPU, one ``render_cpu``).

The module starts its own Ray instance (shutting down any other first, as every Ray test
here cleans up after itself) so that its worker processes inherit ``C2V_LOG_DIR``: each
worker appends its JSON lines to a file there, which the tests read back.
"""

import json
import os
import time

import pytest

from c2v.config import RunConfig
from c2v.core.logs import LOG_DIR_ENV, LOG_LEVEL_ENV
from c2v.core.tiers import Orientation, Tier
from c2v.errors import ClusterError
from c2v.models import RenderRequest, SandboxLimits
from c2v.pipeline import Pipeline, case_dir_for
from cluster.pools import POOLS_ENV, RenderPools
from cluster.runtime import ALLOW_PENDING_ENV, require_pools
from sandbox.backends import BackendConfig
from sandbox.base import SandboxKind

pytestmark = pytest.mark.ray

_ENV = (LOG_DIR_ENV, LOG_LEVEL_ENV, ALLOW_PENDING_ENV, POOLS_ENV)


@pytest.fixture(scope="module")
def farm(tmp_path_factory):
    import ray

    from cluster.runtime import ensure_ray

    log_dir = tmp_path_factory.mktemp("worker-logs")
    saved = {name: os.environ.get(name) for name in _ENV}
    for name in _ENV:
        os.environ.pop(name, None)
    os.environ[LOG_DIR_ENV] = str(log_dir)
    os.environ[LOG_LEVEL_ENV] = "INFO"
    if ray.is_initialized():
        ray.shutdown()
    ensure_ray(num_cpus=1, resources={"render_cpu": 1})
    try:
        yield log_dir
    finally:
        ray.shutdown()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def worker_lines(log_dir) -> list[dict]:
    lines = []
    for path in sorted(log_dir.glob("worker-*.jsonl")):
        lines += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return lines


def test_an_infeasible_pool_fails_the_run_in_seconds(farm, tmp_path):
    pools = tmp_path / "pools.json"
    pools.write_text('{"k": {"num_gpus": 1, "resources": {"render_gpu": 1}}}')
    cfg = RunConfig(
        topic="Binary search", tier=Tier.k, render_pools=pools, output_dir=tmp_path / "out", sandbox="bwrap"
    )
    case = case_dir_for(cfg)
    started = time.monotonic()
    with pytest.raises(ClusterError) as err:
        Pipeline(cfg, case).generate()
    assert time.monotonic() - started < 15
    message = str(err.value)
    assert "tier k" in message and '"render_gpu": 1' in message and "--num-gpus=1" in message
    assert not case.outline.exists(), "nothing may be asked before the pools are checked"
    # Too much of a resource the node has is just as infeasible.
    too_much = RenderPools.parse('{"l": {"resources": {"render_cpu": 2}}}', "test")
    with pytest.raises(ClusterError, match="tier l"):
        require_pools(too_much, [Tier.l])


def test_a_custom_resource_pool_routes_the_task(farm):
    import ray

    pool = RenderPools.parse('{"l": {"resources": {"render_cpu": 1}}}', "test").for_tier(Tier.l)
    require_pools(RenderPools(l=pool), [Tier.l])

    @ray.remote
    def assigned() -> dict:
        return dict(ray.get_runtime_context().get_assigned_resources())

    got = ray.get(assigned.options(**pool.task_options()).remote(), timeout=120)
    assert got.get("render_cpu") == 1 and got.get("CPU") == 1


def test_the_k_pool_asks_ray_for_memory_and_a_node_runs_only_the_4k_renders_it_fits(farm):
    import ray

    from c2v.pipeline.ray_executor import RayExecutor
    from sandbox.backends import resolve_config

    pool = RenderPools().k

    @ray.remote
    def assigned() -> dict:
        return dict(ray.get_runtime_context().get_assigned_resources())

    got = ray.get(assigned.options(**pool.task_options()).remote(), timeout=120)
    assert got.get("memory") == pool.memory_mb * 1024**2
    memory = ray.cluster_resources()["memory"]
    executor = RayExecutor(lambda: None, RenderPools(), resolve_config("bwrap"))
    assert executor.render_slots(Tier.k) == min(1, int(memory // (pool.memory_mb * 1024**2)))
    assert executor.render_slots(Tier.l) == 1  # the farm has one CPU


def boom(case_id: str, section: str, batch: str, attempt: int) -> RenderRequest:
    return RenderRequest(
        case_id=case_id,
        section_id=section,
        scene_name="Boom",
        code="raise ValueError('boom')\n",
        tier=Tier.l,
        orientation=Orientation.landscape,
        limits=SandboxLimits(wall_s=120),
        batch_id=batch,
        attempt=attempt,
    )


def test_a_reused_worker_logs_each_task_with_its_own_ids(farm):
    import ray
    import structlog

    from cluster.tasks import render_task

    pool = RenderPools.parse('{"l": {"resources": {"render_cpu": 1}}}', "test").for_tier(Tier.l)
    options = pool.task_options()
    bwrap = BackendConfig(kind=SandboxKind.bwrap)

    @ray.remote
    def leaky() -> int:
        # Code that binds context without clearing it, as a careless task would.
        structlog.contextvars.bind_contextvars(stray="left-behind", attempt=99)
        structlog.get_logger("test").info("leaky_task")
        return os.getpid()

    first = ray.get(render_task.options(**options).remote(boom("topic-a", "s1", "batch-a", 1), bwrap))
    leaky_pid = ray.get(leaky.options(**options).remote())
    second = ray.get(render_task.options(**options).remote(boom("topic-b", "s2", "batch-b", 2), bwrap))
    assert first.result.section_id == "s1" and second.result.section_id == "s2"

    lines = worker_lines(farm)
    renders = [ln for ln in lines if ln["event"] in {"render_start", "render_done"}]
    by_section = {s: [ln for ln in renders if ln.get("section") == s] for s in ("s1", "s2")}
    assert [ln["event"] for ln in by_section["s1"]] == ["render_start", "render_done"]
    assert [ln["event"] for ln in by_section["s2"]] == ["render_start", "render_done"]
    (leaky_line,) = [ln for ln in lines if ln["event"] == "leaky_task"]
    pids = {ln["pid"] for ln in [*by_section["s1"], *by_section["s2"], leaky_line]}
    assert pids == {leaky_pid}, "the three tasks must share one worker process for this test to mean anything"

    # The clean-up after the first task: the leaky task saw none of its ids.
    assert not {"batch", "topic", "section", "tier"} & leaky_line.keys()
    for line in by_section["s1"]:
        assert (line["batch"], line["topic"], line["attempt"], line["tier"]) == ("batch-a", "topic-a", 1, "l")
    for line in by_section["s2"]:
        assert (line["batch"], line["topic"], line["attempt"], line["tier"]) == ("batch-b", "topic-b", 2, "l")
        assert "stray" not in line, "the second task inherited context from the task before it"
    done = by_section["s2"][1]
    assert done["status"] == second.result.status.value and isinstance(done["wall_s"], float)
    assert done["level"] == "info" and "timestamp" in done


def test_agent_actor_calls_log_their_ids(farm):
    import ray

    from cluster.agents import PlannerActor, agent_options

    planner = PlannerActor.options(**agent_options()).remote("offline", None, "en", batch="batch-p")
    outline, _ = ray.get(planner.outline.remote("Binary search"), timeout=120)
    assert outline.sections
    lines = [ln for ln in worker_lines(farm) if ln.get("agent") == "planner"]
    assert [ln["event"] for ln in lines] == ["agent_call_start", "agent_call_done"]
    for line in lines:
        assert line["batch"] == "batch-p" and line["topic"] == "binary-search" and line["call"] == "outline"
