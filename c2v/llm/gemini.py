"""Gemini through Google's ``google-genai`` SDK: text, structured output, images, whole videos.

System messages become ``system_instruction``; assistant turns have the role ``model``;
images and videos are inline parts (``inlineData``), so the Critic can send a rendered
section whole, as Code2Video does. A request whose media would exceed Gemini's inline
limit sends each video as sampled frames instead. Structured output is
``response_mime_type="application/json"`` with ``response_json_schema``.
"""

from __future__ import annotations

import re
from functools import cached_property

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from c2v.llm.base import ImagePart, LLMRequest, Message, ResponseSchema, TextPart, VideoPart
from c2v.llm.frames import without_video
from c2v.llm.remote import (
    Fault,
    FaultKind,
    ProbeResult,
    RemoteLLM,
    Sent,
    body_message,
    http_fault,
    retry_after_s,
    transport_fault,
)

#: Gemini's limit on a whole request with inline data is 20 MB; keep a margin for the text.
INLINE_LIMIT_BYTES = 18 * 1024 * 1024
_REFUSALS = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}


def _part(part: TextPart | ImagePart | VideoPart) -> types.Part:
    if isinstance(part, TextPart):
        return types.Part(text=part.text)
    return types.Part.from_bytes(data=part.raw(), mime_type=part.mime)


def gemini_contents(messages: list[Message]) -> tuple[str | None, list[types.Content]]:
    """The ``system_instruction`` and the user/model turns."""
    system = "\n\n".join(m.plain_text() for m in messages if m.role == "system") or None
    contents = [
        types.Content(role="model" if m.role == "assistant" else "user", parts=[_part(p) for p in m.parts])
        for m in messages
        if m.role != "system"
    ]
    return system, contents


def _retry_delay(details: object) -> float | None:
    """Gemini's 429 body carries ``RetryInfo`` with ``retryDelay: "13s"``."""
    error = details.get("error") if isinstance(details, dict) else None
    for item in error.get("details", []) if isinstance(error, dict) else []:
        delay = item.get("retryDelay") if isinstance(item, dict) else None
        if isinstance(delay, str) and (m := re.fullmatch(r"(\d+(?:\.\d+)?)s", delay)):
            return float(m.group(1))
    return None


def _bad_key(details: object) -> bool:
    """Gemini answers a wrong key with 400 ``INVALID_ARGUMENT`` and reason ``API_KEY_INVALID``."""
    error = details.get("error") if isinstance(details, dict) else None
    items = error.get("details", []) if isinstance(error, dict) else []
    return any(isinstance(item, dict) and item.get("reason") == "API_KEY_INVALID" for item in items)


def gemini_fault(exc: Exception) -> Fault | None:
    """Read a google-genai exception (also used by Gemini speech generation)."""
    if isinstance(exc, genai_errors.APIError):
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
        wait = retry_after_s(dict(headers) if headers is not None else None) or _retry_delay(exc.details)
        message = body_message(exc.details, exc.message or str(exc))
        if _bad_key(exc.details):  # an auth failure (it stops the topic), not a rejected prompt
            return Fault(kind=FaultKind.auth, message=message, status=int(exc.code))
        return http_fault(int(exc.code), message, wait)
    return transport_fault(exc)


class GeminiLLM(RemoteLLM):
    accepts_video = True
    default_host = "generativelanguage.googleapis.com"

    def _client(self, timeout_s: float) -> genai.Client:
        s = self.settings
        options = types.HttpOptions(
            base_url=s.base_url,
            api_version=s.api_version,
            timeout=max(1, int(timeout_s * 1000)),
            retry_options=types.HttpRetryOptions(attempts=1),  # c2v retries, once, for everyone
        )
        key = s.api_key.get_secret_value() if s.api_key is not None else None
        return genai.Client(api_key=key, http_options=options)

    @cached_property
    def client(self) -> genai.Client:
        return self._client(self.settings.timeout_s)

    def _send(self, messages: list[Message], request: LLMRequest, schema: ResponseSchema | None) -> Sent:
        media = sum(len(p.data_b64) for m in messages for p in m.parts if not isinstance(p, TextPart))
        if media * 3 // 4 > INLINE_LIMIT_BYTES:
            messages = without_video(messages)
        system, contents = gemini_contents(messages)
        config = types.GenerateContentConfig(
            system_instruction=system,
            temperature=request.temperature,
            max_output_tokens=self.settings.max_output_tokens,
        )
        if schema is not None:
            config.response_mime_type = "application/json"
            config.response_json_schema = schema.json_schema
        response = self.client.models.generate_content(model=self.model, contents=contents, config=config)
        candidate = response.candidates[0] if response.candidates else None
        parts = candidate.content.parts if candidate and candidate.content and candidate.content.parts else []
        text = "".join(p.text for p in parts if p.text and not p.thought)
        finish = candidate.finish_reason.value if candidate and candidate.finish_reason else None
        blocked = response.prompt_feedback.block_reason if response.prompt_feedback else None
        refusal = None
        if blocked is not None:
            refusal = f"the prompt was blocked ({blocked.value})"
        elif finish in _REFUSALS:
            refusal = f"the reply was stopped ({finish})"
        usage = response.usage_metadata
        output = None
        if usage is not None and usage.candidates_token_count is not None:
            output = usage.candidates_token_count + (usage.thoughts_token_count or 0)
        return Sent(
            text=text,
            input_tokens=usage.prompt_token_count if usage is not None else None,
            output_tokens=output,
            model=response.model_version or None,
            truncated=finish == "MAX_TOKENS",
            refusal=refusal,
        )

    def _fault(self, exc: Exception) -> Fault | None:
        return gemini_fault(exc)

    def _probe(self, timeout_s: float) -> ProbeResult:
        client = self._client(timeout_s)  # keep a reference: a dropped Client closes its connection
        model = client.models.get(model=self.model)
        return ProbeResult(True, f"answers, key accepted, model {model.name or self.model!r} exists")
