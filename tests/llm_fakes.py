"""Local stand-ins for LLM providers: a threaded HTTP server on 127.0.0.1 speaking their wire.

The real SDKs (openai, anthropic, google-genai) are pointed at :class:`FakeProvider`; it
records every request (path, headers, JSON body) and answers from a script of
:class:`Reply`, :class:`Hang` actions, or from a responder function. The reply builders
below produce each provider's real response shapes (Chat Completions, Messages,
generateContent) and error bodies. Nothing here reaches the internet.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from c2v.llm.base import LLMReply, LLMRequest
from c2v.models import TokenUsage


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Hang:
    """Accept the request and never answer (until the server stops or ``seconds`` pass)."""

    seconds: float = 30.0


Action = Reply | Hang


class FakeProvider:
    def __init__(self, responder: Callable[[Recorded], Action] | None = None) -> None:
        self.requests: list[Recorded] = []
        self.script: deque[Action] = deque()
        self.responder = responder
        self._stop = threading.Event()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                rec = Recorded(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                action = fake._next(rec)
                if isinstance(action, Hang):
                    fake._stop.wait(action.seconds)
                    self.close_connection = True
                    return
                payload = action.body if isinstance(action.body, bytes | str) else json.dumps(action.body)
                data = payload.encode() if isinstance(payload, str) else payload
                self.send_response(action.status)
                if "content-type" not in {k.lower() for k in action.headers}:
                    self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in action.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def _next(self, rec: Recorded) -> Action:
        with self._lock:
            self.requests.append(rec)
            if self.script:
                return self.script.popleft()
        if self.responder is not None:
            return self.responder(rec)
        return Reply(500, {"error": {"message": "the fake provider has no scripted reply left"}})

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def push(self, *actions: Action) -> FakeProvider:
        self.script.extend(actions)
        return self

    def __enter__(self) -> FakeProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()


# -- response shapes ---------------------------------------------------------------------------
def openai_chat(text: str, finish: str = "stop", model: str = "gpt-4.1-2025-04-14", usage=(120, 40)) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "finish_reason": finish,
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
    }


def openai_error(status: int, message: str) -> dict:
    kind = {429: "rate_limit_exceeded", 401: "invalid_request_error"}.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


def anthropic_message(
    text: str,
    stop: str = "end_turn",
    model: str = "claude-opus-5-5",
    usage=(120, 40),
    thinking: str | None = None,
) -> dict:
    """A Messages reply; ``thinking`` opens it with a thinking block (``""``: display omitted)."""
    content: list[dict] = [{"type": "text", "text": text}]
    if thinking is not None:
        content.insert(0, {"type": "thinking", "thinking": thinking, "signature": "c2lnbmF0dXJl"})
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
    }


def anthropic_error(status: int, message: str) -> dict:
    kind = {429: "rate_limit_error", 401: "authentication_error", 529: "overloaded_error"}.get(
        status, "api_error"
    )
    return {"type": "error", "error": {"type": kind, "message": message}}


def gemini_reply(text: str, finish: str = "STOP", model: str = "gemini-2.5-flash", usage=(120, 40)) -> dict:
    return {
        "candidates": [
            {"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": finish, "index": 0}
        ],
        "usageMetadata": {
            "promptTokenCount": usage[0],
            "candidatesTokenCount": usage[1],
            "totalTokenCount": sum(usage),
        },
        "modelVersion": model,
        "responseId": "fake",
    }


def gemini_error(code: int, message: str, retry_delay: str | None = None, reason: str | None = None) -> dict:
    status = {429: "RESOURCE_EXHAUSTED", 401: "UNAUTHENTICATED", 400: "INVALID_ARGUMENT"}.get(
        code, "INTERNAL"
    )
    details: list[dict] = []
    if retry_delay is not None:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
    if reason is not None:  # what Gemini sends with a wrong key: 400 and reason API_KEY_INVALID
        details.append({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason})
    return {"error": {"code": code, "message": message, "status": status, "details": details}}


# -- a transcript replayed over the OpenAI-compatible wire ------------------------------------------
_CODE = re.compile(r"^Section (\S+) of \d+:", re.MULTILINE)
_FIX_LINES = re.compile(r"The scene for section (\S+) failed to render")
_FIX_FILE = re.compile(r"The scene for section (\S+) still fails")
_CRITIC = re.compile(r"^Section (\S+): [^\n]*\n\nThe attached images are the frames", re.MULTILINE)


def _text(content: Any) -> str:
    return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)


class TranscriptReplay:
    """Answers Chat Completions requests with the bundled offline transcript of one topic.

    The wire carries no call tag, so the reply is chosen from what the request asks: the
    first user turn is the agent's prompt (re-asks append turns after it), and each prompt
    template says what it wants (the outline, the storyboard, "Section 3 of 5", "The scene
    for section 3 failed to render" for the n-th targeted fix of that section, "Section 3:
    Title" then the frames for the n-th critic round of that section, ...).
    """

    def __init__(self, folder: Path, model: str = "replay-1") -> None:
        self.folder = folder
        self.model = model
        self.fixes: Counter[str] = Counter()
        self.keys: list[str] = []
        self._lock = threading.Lock()

    def key_for(self, prompt: str, reask: bool = False) -> str:
        """The transcript file that answers ``prompt``; ``reask``: the same call asked again
        (after an unusable reply), which gets the same reply, not the next round's."""
        if "Write the outline" in prompt:
            return "planner.outline"
        if "Turn each outline section into a storyboard" in prompt:
            return "planner.storyboard"
        for pattern, stage in ((_FIX_LINES, "fix_lines"), (_FIX_FILE, "fix_file")):
            if m := pattern.search(prompt):
                with self._lock:
                    self.fixes[f"{stage}.{m.group(1)}"] += 1
                    return f"coder.{stage}.{m.group(1)}.{self.fixes[f'{stage}.{m.group(1)}']}"
        if m := _CODE.search(prompt):
            return f"coder.code.{m.group(1)}"
        if m := _CRITIC.search(prompt):
            with self._lock:
                if not reask:
                    self.fixes[f"critic.{m.group(1)}"] += 1
                return f"critic.review.{m.group(1)}.{self.fixes[f'critic.{m.group(1)}']}"
        raise LookupError(f"no transcript reply fits this prompt: {prompt[:120]!r}")

    def __call__(self, rec: Recorded) -> Action:
        if not rec.path.endswith("/chat/completions"):
            return Reply(404, {"error": {"message": f"no route {rec.path}"}})
        messages = rec.json["messages"]
        prompt = next(_text(m["content"]) for m in messages if m["role"] == "user")
        try:
            key = self.key_for(prompt, reask=any(m["role"] == "assistant" for m in messages))
            text = (self.folder / f"{key}.md").read_text(encoding="utf-8")
        except (LookupError, FileNotFoundError) as exc:
            return Reply(400, {"error": {"message": f"replay server: {exc}"}})
        with self._lock:
            self.keys.append(key)
        words = sum(len(_text(m["content"])) for m in messages) // 4
        return Reply(body=openai_chat(text, model=self.model, usage=(words, len(text) // 4)))


class ScriptedLLM:
    """A real LLMClient that answers from a script and records what it was asked."""

    provider = "scripted"
    model = "scripted-1"

    def __init__(self, replies: list[str]) -> None:
        self.replies = list(replies)
        self.requests: list[LLMRequest] = []

    def complete(self, request: LLMRequest) -> LLMReply:
        self.requests.append(request)
        text = self.replies.pop(0)
        return LLMReply(
            text=text, usage=TokenUsage(input=10, output=5), provider=self.provider, model=self.model
        )
