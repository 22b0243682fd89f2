"""OpenAI, Azure OpenAI and OpenAI-compatible servers, through the ``openai`` SDK.

One module for three endpoints that speak the Chat Completions API:

- OpenAI itself (``gpt51``, ``gpt41``, ``gpt4o`` with ``OPENAI_API_KEY``);
- Azure OpenAI: an endpoint, an ``api_version`` and a deployment (the entry's ``model``),
  through ``AzureOpenAI``; or Azure's ``/openai/v1/`` endpoint as a plain ``base_url``
  (Code2Video's ``gpt51`` entry);
- any OpenAI-compatible ``base_url`` (vLLM, Ollama, llama.cpp server, LiteLLM proxy).

Chat Completions rather than the Responses API, because every one of these servers speaks
it. Structured output is ``response_format={"type": "json_schema", ...}``; a server that
rejects it gets the request again without it. Images go as data URLs; videos arrive here
already turned into frames (OpenAI's chat API takes no video).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import openai
from openai.types.chat import ChatCompletionMessageParam

from c2v.llm.base import ImagePart, LLMRequest, Message, ResponseSchema, TextPart
from c2v.llm.remote import Fault, ProbeResult, RemoteLLM, Sent, stainless_fault
from c2v.llm.settings import ProviderKind

OPENAI_BASE_URL = "https://api.openai.com/v1"
#: OpenAI-compatible servers often need no key, but the SDK insists on one.
NO_KEY = "no-key-needed"


def _content(message: Message) -> str | list[dict[str, Any]]:
    if all(isinstance(p, TextPart) for p in message.parts):
        return message.plain_text()
    parts: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            parts.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            parts.append({"type": "image_url", "image_url": {"url": part.data_url()}})
    return parts


def chat_messages(messages: list[Message]) -> list[ChatCompletionMessageParam]:
    out: list[Any] = []
    for message in messages:
        content = _content(message)
        if message.role == "assistant":
            content = message.plain_text()  # assistant turns carry text only
        out.append({"role": message.role, "content": content})
    return out


class OpenAIChat(RemoteLLM):
    default_host = "api.openai.com"

    def _client(self, timeout_s: float) -> openai.OpenAI:
        s = self.settings
        key = s.api_key.get_secret_value() if s.api_key is not None else NO_KEY
        if s.kind is ProviderKind.azure:
            return openai.AzureOpenAI(
                azure_endpoint=s.base_url or "",
                api_version=s.api_version,
                api_key=key,
                timeout=timeout_s,
                max_retries=0,
            )
        return openai.OpenAI(
            base_url=s.base_url or OPENAI_BASE_URL, api_key=key, timeout=timeout_s, max_retries=0
        )

    @cached_property
    def client(self) -> openai.OpenAI:
        return self._client(self.settings.timeout_s)

    def _send(self, messages: list[Message], request: LLMRequest, schema: ResponseSchema | None) -> Sent:
        options: dict[str, Any] = {}
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if self.settings.max_output_tokens is not None:
            options["max_completion_tokens"] = self.settings.max_output_tokens
        if schema is not None:
            options["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema.name, "schema": schema.json_schema, "strict": True},
            }
        completion = self.client.chat.completions.create(
            model=self.model, messages=chat_messages(messages), **options
        )
        choice = completion.choices[0] if completion.choices else None
        text = (choice.message.content or "") if choice is not None else ""
        refusal = choice.message.refusal if choice is not None else None
        finish = choice.finish_reason if choice is not None else None
        if finish == "content_filter" and not refusal:
            refusal = "the provider's content filter stopped the reply"
        usage = completion.usage
        return Sent(
            text=text,
            input_tokens=usage.prompt_tokens if usage is not None else None,
            output_tokens=usage.completion_tokens if usage is not None else None,
            model=completion.model or None,
            truncated=finish == "length",
            refusal=refusal,
        )

    def _fault(self, exc: Exception) -> Fault | None:
        return stainless_fault(exc, openai.APIStatusError, openai.APITimeoutError, openai.APIConnectionError)

    def _probe(self, timeout_s: float) -> ProbeResult:
        client = self._client(timeout_s)
        try:
            page = client.models.list()
        except openai.NotFoundError:
            return ProbeResult(True, "answers (it lists no models)")
        ids = [m.id for m in page.data]
        if self.settings.kind is ProviderKind.azure or not ids or self.model in ids:
            return ProbeResult(True, f"answers, key accepted, {len(ids)} models listed")
        return ProbeResult(False, f"answers, but model {self.model!r} is not among the {len(ids)} it lists")
