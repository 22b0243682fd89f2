"""The ``claude`` preset on the current Opus, against a local server speaking Anthropic's wire.

What a request carries depends on the model (Claude Opus 5.5 answers ``temperature`` with
HTTP 400), a reply may open with thinking blocks that are not its text, and the cost of a
call uses the model's price. The real ``anthropic`` SDK talks to the server on 127.0.0.1.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from c2v.case import CallRecord
from c2v.llm.base import CallTag, LLMRequest, Message
from c2v.llm.prices import DEFAULT_PRICES, Price, match_model
from c2v.llm.registry import make_llm
from c2v.llm.remote import RemoteLLM
from c2v.llm.schema import response_schema
from c2v.llm.settings import ProviderSettings, resolve_provider
from c2v.models import Outline, TokenUsage
from c2v.tokens import token_totals
from tests.llm_fakes import FakeProvider, Reply, anthropic_message

KEY = "sk-ant-test-0123456789abcdef"
FAST = {"C2V_LLM_TIMEOUT_S": "2", "C2V_LLM_MAX_TRIES": "1"}
SAMPLING = ("temperature", "top_p", "top_k")


@pytest.fixture(scope="module")
def server():
    with FakeProvider() as fake:
        yield fake


def _settings(server: FakeProvider, tmp_path, **entry: Any) -> ProviderSettings:
    config = tmp_path / "api_config.json"
    config.write_text(json.dumps({"claude": {"base_url": server.url, "api_key": KEY, **entry}}))
    return resolve_provider("claude", config, env=FAST)


def _send(server: FakeProvider, settings: ProviderSettings, reply: dict, **request: Any):
    """One call with ``reply`` as the answer: the reply c2v made of it and the request it sent."""
    server.requests.clear()
    server.push(Reply(body=reply))
    llm = make_llm(settings, "planner")
    assert isinstance(llm, RemoteLLM)
    messages = [Message.text("system", "You are terse."), Message.text("user", "Outline it.")]
    tag = CallTag(agent="planner", stage="outline", topic="t")
    answer = llm.complete(LLMRequest(messages=messages, tag=tag, **request))
    (sent,) = server.requests
    return answer, sent


def test_the_claude_preset_defaults_to_opus_5_5_and_sends_no_rejected_setting(server, tmp_path):
    settings = _settings(server, tmp_path)  # no "model": the preset's default
    assert settings.model == "claude-opus-5-5"
    schema = response_schema(Outline)
    _, sent = _send(server, settings, anthropic_message("{}"), temperature=0.2, response_schema=schema)
    body = sent.json
    assert body["model"] == "claude-opus-5-5"
    assert not set(SAMPLING) & set(body), "Opus 5.5 answers sampling settings with HTTP 400"
    assert "thinking" not in body, "thinking cannot be disabled on Opus 5.5, nor given a budget"
    assert body["output_config"]["format"]["type"] == "json_schema"
    assert body["messages"][-1]["role"] == "user", "no assistant prefill"
    assert body["max_tokens"] == 16384


def test_max_tokens_stays_within_the_models_limit(server, tmp_path):
    current = _settings(server, tmp_path, max_output_tokens=500_000)
    assert _send(server, current, anthropic_message("ok"))[1].json["max_tokens"] == 128_000
    older = _settings(server, tmp_path, model="claude-haiku-4-5-20251001", max_output_tokens=500_000)
    assert _send(server, older, anthropic_message("ok"))[1].json["max_tokens"] == 64_000


def test_no_model_is_sent_a_temperature_on_the_api_version_the_sdk_speaks(server, tmp_path):
    older = _settings(server, tmp_path, model="claude-haiku-4-5")  # it took one on 2023-06-01
    _, sent = _send(server, older, anthropic_message("ok", model="claude-haiku-4-5"), temperature=0.2)
    assert sent.headers["anthropic-version"] >= "2026-10-21", "the version that removed them"
    assert not set(SAMPLING) & set(sent.json)


@pytest.mark.parametrize("thought", ["", "Let me think about right triangles first."])
def test_thinking_blocks_are_not_the_text_but_their_tokens_count(server, tmp_path, thought):
    settings = _settings(server, tmp_path)
    body = anthropic_message("The answer.", usage=(1200, 9000), thinking=thought)
    answer, _ = _send(server, settings, body)
    assert answer.text == "The answer."
    assert (answer.usage.input, answer.usage.output) == (1200, 9000)
    assert answer.model == "claude-opus-5-5"


def test_the_cost_of_a_call_uses_the_new_defaults_price(server, tmp_path):
    settings = _settings(server, tmp_path)
    answer, _ = _send(server, settings, anthropic_message("x", usage=(1_000_000, 100_000), thinking=""))
    tag = CallTag(agent="planner", stage="outline", topic="t")
    call = CallRecord(key="planner.outline", tag=tag, payload="", replies=[answer])
    totals = token_totals([call], settings.prices)
    assert totals.cost_usd == pytest.approx(4.00 + 2.00)  # $4 / $20 per million tokens
    assert totals.unpriced_models == []
    assert match_model("claude-opus-5-5-20260922", DEFAULT_PRICES) == Price(input=4, output=20)
    assert match_model("claude-opus-5", DEFAULT_PRICES) == Price(input=5, output=25)


def test_a_price_in_tiers_by_prompt_length_applies_per_call():
    haiku = match_model("claude-haiku-5-5", DEFAULT_PRICES)
    assert haiku is not None
    assert haiku.cost(TokenUsage(input=100_000, output=1_000_000)) == pytest.approx(0.01 + 0.50)
    assert haiku.cost(TokenUsage(input=100_001, output=1_000_000)) == pytest.approx(0.0500005 + 2.50)
