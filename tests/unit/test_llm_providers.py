"""Every provider's real SDK against a local server speaking its wire format.

For each of OpenAI, Azure OpenAI, an OpenAI-compatible server, Anthropic, Azure AI Foundry
(Anthropic) and Gemini: request shapes, replies in the provider's own response shape,
structured output, images and video, 429 with Retry-After, 5xx, a hung connection, a
reply with broken JSON (repair prompt), a truncated reply, a rejected key, and the probe
that `c2v doctor` uses. No mocks of the SDKs, no internet: the servers are on 127.0.0.1.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
import pytest

from c2v.agents.coder import Coder
from c2v.agents.planner import Planner
from c2v.errors import (
    LLMAuthError,
    LLMError,
    LLMPromptRejected,
    LLMRequestError,
    LLMTimeout,
    LLMUnavailable,
    ReplyParseError,
)
from c2v.llm.base import CallTag, ImagePart, LLMRequest, Message, TextPart, VideoPart
from c2v.llm.ratelimit import LocalRateGate
from c2v.llm.registry import make_llm
from c2v.llm.remote import RemoteLLM
from c2v.llm.settings import resolve_provider
from c2v.models import Outline, StoryboardSection
from tests.llm_fakes import (
    FakeProvider,
    Hang,
    Recorded,
    Reply,
    anthropic_error,
    anthropic_message,
    gemini_error,
    gemini_reply,
    openai_chat,
    openai_error,
)

KEY = "sk-test-SECRET-c2v-0123456789abcdef"
FAST = {
    "C2V_LLM_TIMEOUT_S": "0.5",
    "C2V_LLM_MAX_TRIES": "3",
    "C2V_LLM_BACKOFF_S": "0.01",
    "C2V_LLM_BACKOFF_MAX_S": "0.05",
}
TOPIC = "Pythagorean theorem"
OUTLINE = {
    "topic": TOPIC,
    "audience": "beginners",
    "sections": [
        {"id": "1", "title": "Right triangles", "content": "legs and hypotenuse", "example": "3-4-5"}
    ],
}
SCENE = """from manim import *
from c2v_layout import TeachingScene


class Section1(TeachingScene):
    def construct(self):
        self.show_title("Right triangles")
        self.wait(1)
"""
SECTION = StoryboardSection(
    id="1", title="Right triangles", lecture_lines=["a^2 + b^2 = c^2"], animations=["x"]
)


# -- one description per wire format -------------------------------------------------------------
def _openai_users(body: dict) -> list[str]:
    out = []
    for m in body["messages"]:
        if m["role"] == "user":
            c = m["content"]
            out.append(c if isinstance(c, str) else " ".join(p.get("text", "") for p in c))
    return out


def _openai_media(body: dict) -> list[str]:
    urls = [
        p["image_url"]["url"]
        for m in body["messages"]
        if isinstance(m["content"], list)
        for p in m["content"]
        if p["type"] == "image_url"
    ]
    return [u.split(";")[0].removeprefix("data:") for u in urls]


def _claude_users(body: dict) -> list[str]:
    return [
        " ".join(b.get("text", "") for b in m["content"]) for m in body["messages"] if m["role"] == "user"
    ]


def _claude_media(body: dict) -> list[str]:
    return [
        b["source"]["media_type"]
        for m in body["messages"]
        if m["role"] == "user"
        for b in m["content"]
        if b["type"] == "image"
    ]


def _gemini_users(body: dict) -> list[str]:
    return [" ".join(p.get("text", "") for p in c["parts"]) for c in body["contents"] if c["role"] == "user"]


def _gemini_media(body: dict) -> list[str]:
    inline = [p["inlineData"] for c in body["contents"] for p in c["parts"] if "inlineData" in p]
    return [d.get("mimeType") or d.get("mime_type") for d in inline]


@dataclass
class Flavor:
    id: str
    api: str
    entry: Callable[[str], dict]
    ok: Callable[[str, bool], dict]
    error: Callable[[int, str], dict]
    path: str
    key_of: Callable[[dict[str, str]], str | None]
    users: Callable[[dict], list[str]]
    system: Callable[[dict], str | None]
    schema: Callable[[dict], Any]
    media: Callable[[dict], list[str]]
    probe_path: str
    probe_body: dict
    takes_video: bool = False


def _bearer(h: dict[str, str]) -> str | None:
    return h.get("authorization", "").removeprefix("Bearer ") or None


OPENAI_LIKE = {
    "ok": lambda text, cut: openai_chat(text, "length" if cut else "stop"),
    "error": openai_error,
    "users": _openai_users,
    "system": lambda b: b["messages"][0]["content"] if b["messages"][0]["role"] == "system" else None,
    "schema": lambda b: b.get("response_format", {}).get("json_schema"),
    "media": _openai_media,
    "probe_body": {
        "object": "list",
        "data": [{"id": "gpt-4.1", "object": "model", "created": 0, "owned_by": "x"}],
    },
}
CLAUDE_LIKE = {
    "ok": lambda text, cut: anthropic_message(text, "max_tokens" if cut else "end_turn"),
    "error": anthropic_error,
    "users": _claude_users,
    "system": lambda b: b.get("system"),
    "schema": lambda b: b.get("output_config", {}).get("format"),
    "media": _claude_media,
}
FLAVORS = [
    Flavor(
        id="openai",
        api="gpt41",
        entry=lambda url: {"base_url": url + "/v1", "api_key": KEY, "model": "gpt-4.1"},
        path="/v1/chat/completions",
        key_of=_bearer,
        probe_path="/v1/models",
        **OPENAI_LIKE,
    ),
    Flavor(
        id="azure",
        api="gpt4o",
        entry=lambda url: {"base_url": url, "api_version": "2024-10-21", "api_key": KEY, "model": "my-4o"},
        path="/openai/deployments/my-4o/chat/completions",
        key_of=lambda h: h.get("api-key"),
        probe_path="/openai/models",
        **OPENAI_LIKE,
    ),
    Flavor(
        id="openai-compatible",
        api="openai-compatible",
        entry=lambda url: {"base_url": url + "/v1", "api_key": KEY, "model": "qwen2.5-coder"},
        path="/v1/chat/completions",
        key_of=_bearer,
        probe_path="/v1/models",
        **{**OPENAI_LIKE, "probe_body": {"object": "list", "data": []}},
    ),
    Flavor(
        id="anthropic",
        api="claude",
        entry=lambda url: {"base_url": url, "api_key": KEY, "model": "claude-opus-5-5"},
        path="/v1/messages",
        key_of=lambda h: h.get("x-api-key") or _bearer(h),
        probe_path="/v1/models/claude-opus-5-5",
        probe_body={
            "type": "model",
            "id": "claude-opus-5-5",
            "display_name": "Claude",
            "created_at": "2025-11-24T00:00:00Z",
        },
        **CLAUDE_LIKE,
    ),
    Flavor(
        id="foundry",
        api="claude",
        entry=lambda url: {"base_url": url + "/anthropic", "api_key": KEY, "model": "claude-opus-5-5"},
        path="/anthropic/v1/messages",
        key_of=lambda h: h.get("x-api-key"),
        probe_path="/anthropic/v1/messages/count_tokens",
        probe_body={"input_tokens": 3},
        **CLAUDE_LIKE,
    ),
    Flavor(
        id="gemini",
        api="gemini",
        entry=lambda url: {"base_url": url, "api_key": KEY, "model": "gemini-2.5-flash"},
        ok=lambda text, cut: gemini_reply(text, "MAX_TOKENS" if cut else "STOP"),
        error=gemini_error,
        path="/models/gemini-2.5-flash:generateContent",
        key_of=lambda h: h.get("x-goog-api-key"),
        users=_gemini_users,
        system=lambda b: b["systemInstruction"]["parts"][0]["text"] if "systemInstruction" in b else None,
        schema=lambda b: b.get("generationConfig", {}).get("responseJsonSchema"),
        media=_gemini_media,
        probe_path="/models/gemini-2.5-flash",
        probe_body={"name": "models/gemini-2.5-flash", "displayName": "Gemini 2.5 Flash"},
        takes_video=True,
    ),
]


@pytest.fixture(params=FLAVORS, ids=[f.id for f in FLAVORS])
def flavor(request) -> Flavor:
    return request.param


@pytest.fixture
def server():
    with FakeProvider() as fake:
        yield fake


def client(flavor: Flavor, server: FakeProvider, tmp_path, env: dict[str, str] | None = None, **extra: Any):
    config = tmp_path / "api_config.json"
    config.write_text(json.dumps({flavor.api: {**flavor.entry(server.url), **extra}}))
    settings = resolve_provider(flavor.api, config, env={**FAST, **(env or {})})
    llm = make_llm(settings, "planner")
    assert isinstance(llm, RemoteLLM)
    return llm


def request(*parts, schema=None) -> LLMRequest:
    messages = [Message.text("system", "You are terse."), Message(role="user", parts=list(parts))]
    return LLMRequest(
        messages=messages, tag=CallTag(agent="planner", stage="outline", topic=TOPIC), response_schema=schema
    )


def endpoint_calls(server: FakeProvider, flavor: Flavor) -> list[Recorded]:
    return [r for r in server.requests if r.path.endswith(flavor.path)]


# -- the tests ---------------------------------------------------------------------------------------
def test_success_request_and_reply_shapes(flavor, server, tmp_path):
    server.push(Reply(body=flavor.ok("Hello from the model.", False)))
    reply = client(flavor, server, tmp_path).complete(request(TextPart(text="Say hello.")))
    assert reply.text == "Hello from the model."
    assert (reply.usage.input, reply.usage.output) == (120, 40)
    assert reply.provider == flavor.api and reply.model and not reply.truncated
    (sent,) = server.requests
    assert sent.method == "POST" and sent.path.endswith(flavor.path)
    assert flavor.key_of(sent.headers) == KEY
    if flavor.id == "azure":
        assert sent.query["api-version"] == ["2024-10-21"]
    body = sent.json
    assert flavor.system(body) == "You are terse."
    assert flavor.users(body) == ["Say hello."]
    assert flavor.schema(body) is None


def test_structured_output_sends_the_schema_and_validates(flavor, server, tmp_path):
    server.push(Reply(body=flavor.ok(json.dumps(OUTLINE), False)))
    outline, replies = Planner(client(flavor, server, tmp_path)).outline(TOPIC)
    assert outline == Outline.model_validate(OUTLINE) and len(replies) == 1
    schema = flavor.schema(server.requests[0].json)
    assert schema is not None
    if flavor.id in ("openai", "azure", "openai-compatible"):
        assert schema["name"] == "Outline" and schema["strict"] is True
        schema = schema["schema"]
    elif flavor.id in ("anthropic", "foundry"):
        assert schema["type"] == "json_schema"
        schema = schema["schema"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"topic", "audience", "sections"}
    assert "$ref" not in json.dumps(schema)


def test_broken_json_gets_one_repair_prompt(flavor, server, tmp_path):
    broken = '```json\n{"topic": "Pythagorean theorem", "sections": [{"id": "1", "title": }\n```'
    server.push(Reply(body=flavor.ok(broken, False)), Reply(body=flavor.ok(json.dumps(OUTLINE), False)))
    outline, replies = Planner(client(flavor, server, tmp_path)).outline(TOPIC)
    assert outline.sections[0].title == "Right triangles" and len(replies) == 2
    second = server.requests[1].json
    users = flavor.users(second)
    assert len(users) == 2 and "could not be used" in users[-1] and "invalid JSON" in users[-1]
    assert json.dumps(broken)[1:-1] in json.dumps(
        second
    )  # the bad reply is quoted back as the assistant turn


def test_truncated_code_is_asked_for_again(flavor, server, tmp_path):
    cut = "```python\n" + SCENE[: len(SCENE) // 2]
    server.push(Reply(body=flavor.ok(cut, True)), Reply(body=flavor.ok(f"```python\n{SCENE}```", False)))
    coder = Coder(client(flavor, server, tmp_path))
    code, replies = coder.write(TOPIC, SECTION, 1)
    assert code == SCENE
    assert [r.truncated for r in replies] == [True, False]
    follow_up = flavor.users(server.requests[1].json)[-1]
    assert "cut off at the output token limit" in follow_up


def test_image_and_video_input(flavor, server, tmp_path, tiny_mp4):
    server.push(Reply(body=flavor.ok("I see a square.", False)))
    png = ImagePart.from_bytes(_png(), "image/png")
    video = VideoPart.from_bytes(tiny_mp4, "video/mp4")
    reply = client(flavor, server, tmp_path).complete(request(TextPart(text="Describe."), png, video))
    assert reply.text == "I see a square."
    media = flavor.media(server.requests[0].json)
    if flavor.takes_video:
        assert media == ["image/png", "video/mp4"]  # the whole video, inline
    else:
        assert media[0] == "image/png" and len(media) > 2 and set(media) == {"image/png"}  # frames
        assert "frames sampled" in " ".join(flavor.users(server.requests[0].json))


def test_429_with_retry_after_then_success(flavor, server, tmp_path):
    server.push(
        Reply(429, flavor.error(429, "slow down"), headers={"retry-after": "1"}),
        Reply(body=flavor.ok("done", False)),
    )
    gate = LocalRateGate()
    llm = client(flavor, server, tmp_path)
    llm._gate = gate
    started = time.monotonic()
    reply = llm.complete(request(TextPart(text="go")))
    assert reply.text == "done" and len(server.requests) == 2
    assert time.monotonic() - started >= 0.95, "Retry-After: 1 must be honoured"
    assert gate.reserve(1)[1] == pytest.approx(0, abs=0.1), "the hold is over once the wait has passed"


def test_500_then_success(flavor, server, tmp_path):
    server.push(Reply(500, flavor.error(500, "internal")), Reply(body=flavor.ok("recovered", False)))
    assert client(flavor, server, tmp_path).complete(request(TextPart(text="go"))).text == "recovered"
    assert len(endpoint_calls(server, flavor)) == 2


def test_5xx_every_time_is_one_clear_error(flavor, server, tmp_path):
    server.push(*[Reply(503, flavor.error(503, "overloaded, try later")) for _ in range(3)])
    with pytest.raises(LLMUnavailable) as info:
        client(flavor, server, tmp_path).complete(request(TextPart(text="go")))
    message = str(info.value)
    assert message.startswith(f"{flavor.api} (") and "HTTP 503" in message and "after 3 tries" in message
    assert "\n" not in message and len(server.requests) == 3


def test_a_proxy_error_page_is_retried(flavor, server, tmp_path):
    server.push(Reply(200, "<html>502 Bad Gateway</html>"), Reply(body=flavor.ok("fine now", False)))
    assert client(flavor, server, tmp_path).complete(request(TextPart(text="go"))).text == "fine now"


def test_a_reply_of_an_unexpected_shape_is_an_empty_reply(flavor, server, tmp_path):
    server.push(Reply(body={"unexpected": True}))
    reply = client(flavor, server, tmp_path).complete(request(TextPart(text="go")))
    assert reply.text == "" and reply.usage.input > 0  # parsing fails next and the model is re-asked


def test_hung_connection_times_out_with_a_clear_error(flavor, server, tmp_path):
    server.push(Hang(), Hang())
    llm = client(flavor, server, tmp_path, env={"C2V_LLM_MAX_TRIES": "2"})
    started = time.monotonic()
    with pytest.raises(LLMTimeout) as info:
        llm.complete(request(TextPart(text="go")))
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert f"{flavor.api} ({llm.model})" in message and "no answer within 0.5 s" in message
    assert "after 2 tries" in message and "\n" not in message
    assert isinstance(info.value, TimeoutError)


def test_rejected_key_never_appears_in_the_error(flavor, server, tmp_path):
    server.push(Reply(401, flavor.error(401, f"Incorrect API key provided: {KEY}")))
    with pytest.raises(LLMAuthError) as info:
        client(flavor, server, tmp_path).complete(request(TextPart(text="go")))
    message = str(info.value)
    assert KEY not in message and KEY[:12] not in message
    assert "the API key was rejected (HTTP 401)" in message and "api_config.json" in message
    assert len(server.requests) == 1, "a rejected key is not retried"


def test_a_wrong_gemini_key_is_an_auth_failure_though_it_comes_as_a_400(server, tmp_path):
    gemini = next(f for f in FLAVORS if f.api == "gemini")
    body = gemini_error(
        400, f"API key not valid. Please pass a valid API key. ({KEY})", reason="API_KEY_INVALID"
    )
    server.push(Reply(400, body))
    with pytest.raises(LLMAuthError) as info:  # stops the topic; a rejected prompt would not
        client(gemini, server, tmp_path).complete(request(TextPart(text="go")))
    message = str(info.value)
    assert "the API key was rejected (HTTP 400)" in message and KEY not in message
    assert not isinstance(info.value, LLMPromptRejected) and len(server.requests) == 1


def test_bad_request_is_not_retried_and_is_scrubbed(flavor, server, tmp_path):
    server.push(Reply(400, flavor.error(400, f"model not supported; you sent key {KEY}")))
    with pytest.raises(LLMRequestError) as info:
        client(flavor, server, tmp_path).complete(request(TextPart(text="go")))
    assert "HTTP 400" in str(info.value) and "model not supported" in str(info.value)
    assert isinstance(info.value, LLMPromptRejected)  # costs the section whose prompt it was
    assert KEY not in str(info.value) and len(server.requests) == 1


def test_probe_answers_and_reports_a_rejected_key(flavor, server, tmp_path):
    def respond(rec: Recorded):
        if rec.path.endswith(flavor.probe_path):
            return Reply(body=flavor.probe_body)
        return Reply(404, {"error": {"message": "no such route"}})

    server.responder = respond
    result = client(flavor, server, tmp_path).probe(2.0)
    assert result.ok, result.detail
    server.responder = lambda rec: Reply(401, flavor.error(401, f"bad key {KEY}"))
    result = client(flavor, server, tmp_path).probe(2.0)
    assert not result.ok and "rejected" in result.detail and KEY not in result.detail


# -- provider-specific behaviour --------------------------------------------------------------------
def test_server_without_structured_output_is_asked_plainly(server, tmp_path):
    compat = next(f for f in FLAVORS if f.id == "openai-compatible")
    server.push(
        Reply(400, openai_error(400, "response_format json_schema is not supported")),
        Reply(body=openai_chat(f"Here it is:\n```json\n{json.dumps(OUTLINE)}\n```")),
    )
    llm = client(compat, server, tmp_path)
    outline, replies = Planner(llm).outline(TOPIC)
    assert outline.topic == TOPIC and len(replies) == 1
    assert "response_format" in server.requests[0].json and "response_format" not in server.requests[1].json
    server.push(Reply(body=openai_chat(json.dumps(OUTLINE))))
    Planner(llm).outline(TOPIC)
    assert "response_format" not in server.requests[2].json, "the client remembers"


def test_structured_output_can_be_switched_off(server, tmp_path):
    openai_flavor = FLAVORS[0]
    server.push(Reply(body=openai_chat(json.dumps(OUTLINE))))
    Planner(client(openai_flavor, server, tmp_path, structured_output=False)).outline(TOPIC)
    assert "response_format" not in server.requests[0].json


def test_gemini_retry_delay_in_the_error_body_is_honoured(server, tmp_path):
    gemini = FLAVORS[-1]
    server.push(
        Reply(429, gemini_error(429, "quota", retry_delay="1s")), Reply(body=gemini_reply("after the quota"))
    )
    started = time.monotonic()
    assert client(gemini, server, tmp_path).complete(request(TextPart(text="go"))).text == "after the quota"
    assert time.monotonic() - started >= 0.95


def test_retry_after_longer_than_the_limit_gives_up_at_once(server, tmp_path):
    server.push(Reply(429, openai_error(429, "daily quota"), headers={"retry-after": "3600"}))
    llm = client(FLAVORS[0], server, tmp_path)
    with pytest.raises(LLMError) as info:
        llm.complete(request(TextPart(text="go")))
    assert "asks to wait 3600 s" in str(info.value) and len(server.requests) == 1


def test_refusal_is_an_llm_error(server, tmp_path):
    server.push(Reply(body=anthropic_message("", stop="refusal")))
    with pytest.raises(LLMError, match="declined to answer"):
        client(FLAVORS[3], server, tmp_path).complete(request(TextPart(text="go")))


def test_usage_missing_from_a_compatible_server_is_estimated(server, tmp_path):
    body = openai_chat("x" * 400)
    del body["usage"]
    server.push(Reply(body=body))
    reply = client(FLAVORS[2], server, tmp_path).complete(request(TextPart(text="y" * 800)))
    assert reply.usage.output == 100 and reply.usage.input >= 200


def test_per_role_models(server, tmp_path):
    config = tmp_path / "api_config.json"
    entry = {**FLAVORS[0].entry(server.url), "models": {"planner": "gpt-4.1-mini", "coder": "gpt-4.1"}}
    config.write_text(json.dumps({"gpt41": entry}))
    settings = resolve_provider("gpt41", config, env=FAST)
    server.push(
        Reply(body=openai_chat(json.dumps(OUTLINE))), Reply(body=openai_chat(f"```python\n{SCENE}```"))
    )
    Planner(make_llm(settings, "planner")).outline(TOPIC)
    Coder(make_llm(settings, "coder")).write(TOPIC, SECTION, 1)
    assert [r.json["model"] for r in server.requests] == ["gpt-4.1-mini", "gpt-4.1"]
    assert make_llm(settings, "critic").model == "gpt-4.1"


def test_unparsable_after_all_repairs_is_a_parse_error(server, tmp_path):
    server.push(*[Reply(body=openai_chat("no json here")) for _ in range(3)])
    with pytest.raises(ReplyParseError, match="unusable reply after 3 tries"):
        Planner(client(FLAVORS[0], server, tmp_path)).outline(TOPIC)


# -- helpers -------------------------------------------------------------------------------------
def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def tiny_mp4() -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(20):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 10, dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()
