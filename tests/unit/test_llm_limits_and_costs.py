"""The shared rate window, cost estimates in the token totals, and the structured-output schema."""

from __future__ import annotations

import threading

import pytest

from c2v.case import CallRecord
from c2v.llm.base import CallTag, LLMReply
from c2v.llm.prices import Price
from c2v.llm.ratelimit import LocalRateGate, RateWindow
from c2v.llm.remote import redact, retry_after_s
from c2v.llm.schema import response_schema
from c2v.models import CriticReport, Outline, Storyboard, TokenUsage
from c2v.tokens import token_totals


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_requests_per_minute_are_spread_over_the_window():
    clock = Clock()
    window = RateWindow(rpm=3, clock=clock)
    waits = [window.reserve(10)[1] for _ in range(7)]
    assert waits == [0, 0, 0, 60, 60, 60, 120]
    clock.now += 61
    assert window.reserve(10)[1] == pytest.approx(59)  # first come, first served: after the queued one


def test_tokens_per_minute_and_settling_the_real_count():
    clock = Clock()
    window = RateWindow(tpm=1000, clock=clock)
    t1, wait1 = window.reserve(600)
    _, wait2 = window.reserve(600)
    assert (wait1, wait2) == (0, 60)
    clock.now += 60.5
    window.settle(t1, 50)  # the first request used far less than booked
    assert window.reserve(300)[1] == pytest.approx(0, abs=0.01)
    assert window.reserve(5000)[1] > 0  # a request larger than the limit waits for an empty window


def test_a_hold_stops_every_caller():
    clock = Clock()
    window = RateWindow(clock=clock)
    window.hold(7)
    assert window.reserve(1)[1] == 7
    clock.now += 10
    assert window.reserve(1)[1] == 0


def test_local_gate_is_shared_by_threads():
    gate = LocalRateGate(rpm=4)
    waits: list[float] = []

    def ask() -> None:
        waits.append(gate.reserve(1)[1])

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(round(w) for w in waits) == [0, 0, 0, 0, 60, 60, 60, 60]


def _call(agent: str, stage: str, model: str, *usages: tuple[int, int]) -> CallRecord:
    replies = [
        LLMReply(text="x", usage=TokenUsage(input=i, output=o), provider="p", model=model) for i, o in usages
    ]
    return CallRecord(
        key=f"{agent}.{stage}", tag=CallTag(agent=agent, stage=stage, topic="t"), payload="", replies=replies
    )


def test_costs_by_agent_stage_and_model_count_every_reply():
    prices = {"gpt-4.1": Price(input=2.0, output=8.0)}
    calls = [
        _call("planner", "outline", "gpt-4.1-2025-04-14", (1_000_000, 0)),
        _call("coder", "code", "gpt-4.1-2025-04-14", (500_000, 100_000), (10, 10)),  # a re-ask counts too
        _call("critic", "review", "llama3", (100, 100)),
    ]
    totals = token_totals(calls, prices)
    assert totals.total == 1_000_000 + 600_020 + 200
    assert totals.cost_by_agent == {"planner": 2.0, "coder": pytest.approx(1.8 + 0.0001)}
    assert totals.cost_by_stage["coder.code"] == totals.cost_by_agent["coder"]
    assert totals.cost_usd == pytest.approx(3.8001)
    assert totals.unpriced_models == ["llama3"]
    assert totals.by_model["gpt-4.1-2025-04-14"].input == 1_500_010


def test_offline_costs_nothing():
    totals = token_totals([_call("planner", "outline", "offline-transcript", (500, 500))])
    assert totals.cost_usd == 0 and totals.unpriced_models == [] and totals.total == 1000


@pytest.mark.parametrize("model", [Outline, Storyboard, CriticReport])
def test_schema_is_the_portable_strict_subset(model):
    schema = response_schema(model).json_schema
    text = str(schema)
    assert "$ref" not in text and "$defs" not in text and "default" not in schema
    assert "minLength" not in text and "maxItems" not in text and "pattern" not in text

    def walk(node):
        if node.get("type") == "object":
            assert node["additionalProperties"] is False
            assert set(node["required"]) == set(node["properties"])
            for sub in node["properties"].values():
                walk(sub)
        for sub in node.get("anyOf", []):
            walk(sub)
        if "items" in node:
            walk(node["items"])

    walk(schema)


def test_constraints_survive_as_descriptions():
    text = str(response_schema(Storyboard).json_schema)
    assert "maximum number of items 5" in text  # at most five lecture lines


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_headers(headers, seconds):
    assert retry_after_s(headers) == seconds


def test_redact_removes_known_secrets_and_key_shapes():
    text = "Incorrect API key provided: sk-proj-abc***********wxyz; also AIzaSyA1234567890abcdefgh, mykey42"
    clean = redact(text, ["mykey42"])
    assert "sk-proj" not in clean and "AIza" not in clean and "mykey42" not in clean


@pytest.mark.ray
def test_the_limiter_actor_is_shared_by_every_worker():
    import ray

    from c2v.llm.settings import ProviderKind, ProviderSettings
    from cluster.limits import RayRateGate, shared_limiter
    from cluster.runtime import ensure_ray

    ensure_ray(num_cpus=1)
    try:
        settings = ProviderSettings(name="limit-test", kind=ProviderKind.openai, model="m", rpm=2)
        name = shared_limiter(settings)
        assert shared_limiter(settings) == name  # a second pipeline finds the same actor

        @ray.remote(num_cpus=0)
        def reserve(limiter: str) -> float:
            return RayRateGate(limiter).reserve(10)[1]

        waits = sorted(ray.get([reserve.remote(name) for _ in range(3)]))
        assert waits[:2] == [0, 0] and waits[2] == pytest.approx(60, abs=2)
    finally:
        ray.shutdown()
