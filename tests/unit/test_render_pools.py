"""Render pools per tier, node feasibility, and per-task log context (no Ray needed here)."""

import io
import json
import logging

import pytest
import structlog

from c2v.config import RunConfig
from c2v.core.logs import configure_logging, parse_level, task_context
from c2v.core.tiers import Orientation, Tier
from c2v.errors import ClusterError, ConfigError
from c2v.models import RenderRequest, StoryboardSection
from cluster import runtime
from cluster.agents import _Agent, _call_ids, logged_call, parse_agent_cpus
from cluster.pools import EXAMPLE_POOLS, K_MEMORY_MB, POOLS_ENV, RenderPool, RenderPools
from cluster.runtime import ALLOW_PENDING_ENV, best_node, infeasible, require_pools

# -- loading and merging ------------------------------------------------------------------------


def test_default_pools_ask_one_cpu_for_every_tier_and_memory_for_4k():
    pools = RenderPools.load(None, env={})
    for tier in (Tier.l, Tier.m, Tier.h):
        pool = pools.for_tier(tier)
        assert pool.task_options() == {"num_cpus": 1, "num_gpus": 0, "resources": {}}
        assert pool.demand() == {"CPU": 1}
    memory = K_MEMORY_MB * 1024**2
    assert pools.k.task_options() == {"num_cpus": 1, "num_gpus": 0, "memory": memory, "resources": {}}
    assert pools.k.demand() == {"CPU": 1, "memory": memory}


def test_a_node_runs_no_more_4k_renders_than_its_memory_fits():
    k = RenderPools().k
    assert k.fits({"CPU": 16, "memory": 6 * 1024**3}) == 2  # memory, not CPUs, is the limit
    assert k.fits({"CPU": 2, "memory": 64 * 1024**3}) == 2
    assert k.fits({"CPU": 16}) == 0  # a node that offers no memory runs none
    assert RenderPools().l.fits({"CPU": 3, "memory": 1}) == 3


def test_a_partial_map_overrides_only_the_tiers_and_fields_it_names():
    pools = RenderPools.load(None, env={POOLS_ENV: EXAMPLE_POOLS})
    memory = K_MEMORY_MB * 1024**2  # k names no memory: it keeps the default
    assert pools.k.task_options() == {
        "num_cpus": 2,
        "num_gpus": 1,
        "memory": memory,
        "resources": {"render_gpu": 1},
    }
    assert pools.k.demand() == {"CPU": 2, "GPU": 1, "memory": memory, "render_gpu": 1}
    # l names only its resources: the CPU stays at the default.
    assert pools.for_tier(Tier.l).task_options() == {
        "num_cpus": 1,
        "num_gpus": 0,
        "resources": {"render_cpu": 1},
    }
    assert pools.m == RenderPool() and pools.h == RenderPool()


def test_a_file_wins_over_the_environment(tmp_path):
    path = tmp_path / "pools.json"
    path.write_text('{"h": {"num_cpus": 4}}')
    pools = RenderPools.load(path, env={POOLS_ENV: EXAMPLE_POOLS})
    assert pools.h.num_cpus == 4 and pools.k == RenderPool(memory_mb=K_MEMORY_MB)


def test_env_pools_are_parsed_once_and_not_shared_mutably():
    first = RenderPools.load(None, env={POOLS_ENV: EXAMPLE_POOLS})
    first.k.resources["render_gpu"] = 99
    assert RenderPools.load(None, env={POOLS_ENV: EXAMPLE_POOLS}).k.resources == {"render_gpu": 1}


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("{not json", ["not valid JSON"]),
        ('["k"]', ["JSON object keyed by tier"]),
        ('{"x": {"num_cpus": 1}}', ["x", "unknown tier or field"]),
        ('{"k": {"num_gpu": 1}}', ["k.num_gpu", "unknown tier or field"]),
        ('{"k": {"num_cpus": -1}}', ["k.num_cpus"]),
        ('{"k": {"resources": {"GPU": 1}}}', ["num_gpus"]),
    ],
)
def test_bad_pools_in_the_environment_name_the_source(text, needles):
    with pytest.raises(ConfigError) as err:
        RenderPools.load(None, env={POOLS_ENV: text})
    message = str(err.value)
    assert "\n" not in message and POOLS_ENV in message
    for needle in needles:
        assert needle in message


def test_bad_pools_file_names_the_file(tmp_path):
    path = tmp_path / "pools.json"
    path.write_text('{"q": {}}')
    with pytest.raises(ConfigError, match=r"pools\.json: q: unknown tier"):
        RenderPools.load(path, env={})
    with pytest.raises(ConfigError, match="cannot read render pools file"):
        RenderPools.load(tmp_path / "missing.json", env={})


def test_run_config_checks_the_pools_file_at_the_boundary(tmp_path):
    path = tmp_path / "pools.json"
    path.write_text('{"k": {"num_gpus": "many"}}')
    with pytest.raises(ValueError, match="render pools in"):
        RunConfig(topic="Binary search", render_pools=path)
    path.write_text(EXAMPLE_POOLS)
    assert RunConfig(topic="Binary search", render_pools=path, batch_id="b1").batch_id == "b1"


def test_the_cli_reports_a_bad_pools_file_in_one_line(c2v, tmp_path):
    path = tmp_path / "pools.json"
    path.write_text('{"z": {}}')
    proc = c2v("generate", "Binary search", "--render-pools", str(path), "-o", str(tmp_path / "out"))
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert str(path) in lines[0] and "unknown tier" in lines[0]
    proc = c2v("generate", "Binary search", "-o", str(tmp_path / "out"), env={POOLS_ENV: "{oops"})
    assert proc.returncode == 2 and POOLS_ENV in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


# -- feasibility against nodes --------------------------------------------------------------------


def node(alive=True, **resources):
    return {"Alive": alive, "Resources": {"memory": 1e9, **resources}}


def test_a_pool_must_fit_on_one_node_not_across_the_cluster():
    needed = RenderPools.load(None, env={POOLS_ENV: EXAMPLE_POOLS}).k.demand()
    mem = 8 * 1024**3
    split = [node(CPU=8, GPU=1, memory=mem), node(CPU=8, render_gpu=1, memory=mem)]  # totals would say yes
    why = infeasible(needed, split)
    assert why is not None and "best node offers" in why
    assert infeasible(needed, [*split, node(CPU=4, GPU=2, render_gpu=1)]) is not None  # no memory
    assert infeasible(needed, [*split, node(CPU=4, GPU=2, render_gpu=1, memory=mem)]) is None


def test_dead_nodes_do_not_count_and_no_node_is_reported():
    needed = {"CPU": 1, "render_cpu": 1}
    assert infeasible(needed, [node(alive=False, CPU=4, render_cpu=4)]) == "no Ray node is alive"
    assert infeasible(needed, []) == "no Ray node is alive"
    assert infeasible(needed, [node(alive=False, CPU=4, render_cpu=4), node(CPU=1, render_cpu=1)]) is None


def test_amounts_matter_and_the_best_node_is_the_closest():
    needed = {"CPU": 2, "GPU": 1, "render_gpu": 1}
    nodes = [node(CPU=64), node(CPU=2, GPU=1, render_gpu=0.5)]
    assert best_node(needed, nodes) == nodes[1]["Resources"]
    assert "render_gpu" in (infeasible(needed, nodes) or "")
    assert infeasible({"CPU": 0.5}, [node(CPU=1)]) is None


def test_require_pools_says_which_tier_what_and_how_to_fix(monkeypatch):
    monkeypatch.delenv(ALLOW_PENDING_ENV, raising=False)
    monkeypatch.setattr(runtime.ray, "nodes", lambda: [node(CPU=16, render_cpu=4)])
    pools = RenderPools.load(None, env={POOLS_ENV: EXAMPLE_POOLS})
    require_pools(pools, [Tier.l, Tier.m])
    with pytest.raises(ClusterError) as err:
        require_pools(pools, [Tier.l, Tier.k])
    message = str(err.value)
    assert "\n" not in message
    for needle in (
        "tier k",
        '"render_gpu": 1',
        '"GPU": 0',
        "--num-gpus=1",
        "--resources='{\"render_gpu\": 1}'",
        POOLS_ENV,
        ALLOW_PENDING_ENV,
    ):
        assert needle in message, needle
    monkeypatch.setenv(ALLOW_PENDING_ENV, "1")
    require_pools(pools, [Tier.k])  # an autoscaler may add the node later


def test_the_render_key_ignores_log_ids():
    from sandbox.render import render_key

    base = {
        "case_id": "c",
        "section_id": "s1",
        "scene_name": "S",
        "code": "x = 1\n",
        "tier": Tier.l,
        "orientation": Orientation.landscape,
    }
    plain = RenderRequest(**base)
    tagged = RenderRequest(**base, batch_id="batch-7", attempt=3)
    assert render_key(plain) == render_key(tagged)
    with pytest.raises(ValueError):
        RenderRequest(**base, attempt=-1)


# -- log context ------------------------------------------------------------------------------------


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.fixture
def captured():
    stream = io.StringIO()
    configure_logging(json_lines=True, level=logging.INFO, file=stream)
    structlog.contextvars.clear_contextvars()
    yield stream
    structlog.contextvars.clear_contextvars()
    configure_logging()


def test_task_context_clears_what_an_earlier_task_left(captured):
    log = structlog.get_logger("t")
    structlog.contextvars.bind_contextvars(stray="left", section="old")
    with task_context(topic="t2", section="s2", attempt=2):
        log.info("inside")
    log.info("after")
    inside, after = json_lines(captured)
    assert inside["section"] == "s2" and inside["attempt"] == 2 and "stray" not in inside
    assert "section" not in after and "topic" not in after


class FakeCoder(_Agent):
    role = "coder"

    def __init__(self, batch: str) -> None:
        self.batch = batch

    @logged_call
    def fix_lines(self, topic: str, section_id: str, code: str, attempt: int) -> str:
        structlog.get_logger("inner").info("working")
        return code.upper()

    @logged_call
    def review(self, topic: str, section: StoryboardSection, round_: int) -> str:
        raise RuntimeError("secret-ish detail that must not be logged")


def test_logged_call_binds_the_call_ids_and_never_the_arguments(captured):
    agent = FakeCoder("b1")
    assert agent.fix_lines("Euler's formula", "s3", "code with sk-SECRET", attempt=2) == "CODE WITH SK-SECRET"
    section = StoryboardSection(id="s4", title="T", lecture_lines=["a line"], animations=["x"])
    with pytest.raises(RuntimeError):
        agent.review("Euler's formula", section, 1)
    lines = json_lines(captured)
    assert [ln["event"] for ln in lines] == [
        "agent_call_start",
        "working",
        "agent_call_done",
        "agent_call_start",
        "agent_call_failed",
    ]
    for line in lines[:3]:
        assert line["batch"] == "b1" and line["agent"] == "coder" and line["call"] == "fix_lines"
        assert line["topic"] == "eulers-formula" and line["section"] == "s3" and line["attempt"] == 3
    assert lines[4]["section"] == "s4" and lines[4]["round"] == 1 and lines[4]["error"] == "RuntimeError"
    assert "SECRET" not in captured.getvalue() and "secret-ish" not in captured.getvalue()


def test_call_ids_for_a_first_write_is_attempt_one():
    section = StoryboardSection(id="s1", title="T", lecture_lines=["a line"], animations=["x"])
    assert _call_ids({"topic": "勾股定理", "section": section, "attempt": None}) == {
        "topic": "勾股定理",
        "section": "s1",
        "attempt": 1,
    }
    assert _call_ids({"topic": "Binary search"}) == {"topic": "binary-search", "attempt": 0}


def test_log_level_and_agent_cpu_knobs_are_checked():
    assert parse_level("debug") == logging.DEBUG and parse_level("30") == 30
    with pytest.raises(ConfigError, match="C2V_LOG_LEVEL"):
        parse_level("loud")
    assert parse_agent_cpus({}) == 0 and parse_agent_cpus({"C2V_AGENT_NUM_CPUS": "0.5"}) == 0.5
    with pytest.raises(ConfigError, match="C2V_AGENT_NUM_CPUS"):
        parse_agent_cpus({"C2V_AGENT_NUM_CPUS": "-1"})
