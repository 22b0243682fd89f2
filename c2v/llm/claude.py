"""Claude through the ``anthropic`` SDK: Anthropic's API or Azure AI Foundry's endpoint.

Code2Video's ``claude`` entry points at Azure AI Foundry (``base_url`` ending in
``/anthropic``); that goes through ``AnthropicFoundry``, any other ``base_url`` (or none)
through ``Anthropic``. System messages become the ``system`` parameter, images become
base64 image blocks, videos arrive here already turned into frames. Structured output is
``output_config={"format": {"type": "json_schema", "schema": ...}}``.

No request carries ``temperature`` (nor ``top_p``, ``top_k``): API version 2026-10-21,
which the ``anthropic`` SDK from 2.0 on sends, removed them for every model (a request with
one is an HTTP 400, and the SDK no longer takes them), and Opus 4.7 and later, Sonnet 5 and
later, Haiku 5.5 and Fable reject them on any version. No request carries ``thinking``
either: Opus 5.5 and Fable 5.1 always think and answer ``disabled`` or a budget with 400.
``max_tokens`` stays within the model's limit (:data:`MAX_OUTPUT_TOKENS`). A reply may open
with ``thinking`` blocks; its text is its ``text`` blocks alone, and its ``output_tokens``
include the thinking, which is billed as output.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import anthropic
from anthropic.types import MessageParam

from c2v.llm.base import ImagePart, LLMRequest, Message, ResponseSchema, TextPart
from c2v.llm.prices import match_model
from c2v.llm.remote import Fault, ProbeResult, RemoteLLM, Sent, stainless_fault

#: ``max_tokens`` when ``max_output_tokens`` is not set (thinking counts against it).
DEFAULT_MAX_TOKENS = 16384
#: The most ``max_tokens`` each model takes, matched like prices: exact name, else the
#: longest prefix (``claude-opus-4-5-20251101``). A model not listed is taken to be newer.
MAX_OUTPUT_TOKENS: dict[str, int] = {
    "claude-opus-4": 32_000,  # 4.0 and 4.1
    "claude-opus-4-5": 64_000,
    "claude-opus-4-6": 128_000,
    "claude-opus-4-7": 128_000,
    "claude-opus-4-8": 128_000,
    "claude-sonnet-4": 64_000,  # 4.0 to 4.6
    "claude-haiku-4-5": 64_000,
    "claude-opus-5": 128_000,  # and 5.5
    "claude-sonnet-5": 128_000,  # and 5.5
    "claude-haiku-5": 128_000,  # 5.5
    "claude-fable-5": 128_000,  # 5, 5.1, 5.2
}
NEWER_MAX_OUTPUT_TOKENS = 128_000


def max_tokens_for(model: str, wanted: int | None) -> int:
    """``wanted`` (or the default), at most what ``model`` accepts."""
    limit = match_model(model, MAX_OUTPUT_TOKENS) or NEWER_MAX_OUTPUT_TOKENS
    return min(wanted or DEFAULT_MAX_TOKENS, limit)


def _blocks(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            source = {"type": "base64", "media_type": part.mime, "data": part.data_b64}
            blocks.append({"type": "image", "source": source})
    return blocks


def claude_messages(messages: list[Message]) -> tuple[str | None, list[MessageParam]]:
    """The ``system`` text and the alternating user/assistant turns."""
    system = "\n\n".join(m.plain_text() for m in messages if m.role == "system") or None
    turns: list[Any] = [
        {"role": m.role, "content": _blocks(m) if m.role == "user" else m.plain_text().rstrip()}
        for m in messages
        if m.role != "system"
    ]
    return system, turns


class ClaudeMessages(RemoteLLM):
    default_host = "api.anthropic.com"

    def _client(self, timeout_s: float) -> anthropic.Anthropic:
        s = self.settings
        key = s.api_key.get_secret_value() if s.api_key is not None else None
        if s.is_foundry:
            return anthropic.AnthropicFoundry(
                api_key=key, base_url=s.base_url or "", timeout=timeout_s, max_retries=0
            )
        return anthropic.Anthropic(api_key=key, base_url=s.base_url, timeout=timeout_s, max_retries=0)

    @cached_property
    def client(self) -> anthropic.Anthropic:
        return self._client(self.settings.timeout_s)

    def _send(self, messages: list[Message], request: LLMRequest, schema: ResponseSchema | None) -> Sent:
        system, turns = claude_messages(messages)
        options: dict[str, Any] = {}  # never a temperature: see the module's docstring
        if system is not None:
            options["system"] = system
        if schema is not None:
            options["output_config"] = {"format": {"type": "json_schema", "schema": schema.json_schema}}
        reply = self.client.messages.create(
            model=self.model,
            max_tokens=max_tokens_for(self.model, self.settings.max_output_tokens),
            messages=turns,
            **options,
        )
        # text blocks only: thinking blocks (empty by default) are not the answer
        text = "".join(block.text for block in reply.content or [] if block.type == "text")
        usage = reply.usage
        cached = (
            (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0) if usage else 0
        )
        return Sent(
            text=text,
            input_tokens=usage.input_tokens + cached if usage else None,
            output_tokens=usage.output_tokens if usage else None,
            model=reply.model or None,
            truncated=reply.stop_reason == "max_tokens",
            refusal="the model refused (stop_reason: refusal)" if reply.stop_reason == "refusal" else None,
        )

    def _fault(self, exc: Exception) -> Fault | None:
        return stainless_fault(
            exc, anthropic.APIStatusError, anthropic.APITimeoutError, anthropic.APIConnectionError
        )

    def _probe(self, timeout_s: float) -> ProbeResult:
        client = self._client(timeout_s)
        if self.settings.is_foundry:  # Foundry has no models endpoint; counting tokens is free
            try:
                client.messages.count_tokens(model=self.model, messages=[{"role": "user", "content": "hi"}])
            except anthropic.NotFoundError:
                return ProbeResult(True, "answers (no token-count route)")
            return ProbeResult(True, "answers, key accepted")
        client.models.retrieve(self.model)
        return ProbeResult(True, f"answers, key accepted, model {self.model!r} exists")
