"""What every SDK-backed provider shares: rate limiting, retries, error translation, usage.

A provider module subclasses :class:`RemoteLLM` and writes three things only: how to send
one request with its SDK (:meth:`RemoteLLM._send`), how to read its SDK's exceptions
(:meth:`RemoteLLM._fault`), and a cheap request that proves the endpoint answers
(:meth:`RemoteLLM._probe`). Everything else lives here, once:

- the shared rate limit (:mod:`c2v.llm.ratelimit`) is asked before every HTTP request;
- timeouts, connection errors, HTTP 408/409/429/5xx are retried with exponential backoff
  and jitter, at least as long as ``Retry-After`` asks, up to ``max_tries`` requests;
- a structured-output schema that the server rejects (HTTP 400) is dropped once, and the
  request is sent again without it (many OpenAI-compatible servers lack the feature);
- every failure ends as one :class:`c2v.errors.LLMError` leaf whose message names the
  provider, the model and the cause in one line, with secrets scrubbed from it;
- token usage comes from the provider, or is estimated when a server reports none.

The SDKs' own retries are switched off (``max_retries=0``) so that there is one policy.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import urlsplit

import structlog

from c2v.errors import (
    LLMAuthError,
    LLMError,
    LLMPromptRejected,
    LLMRateLimited,
    LLMRefused,
    LLMRequestError,
    LLMTimeout,
    LLMUnavailable,
)
from c2v.llm.base import (
    LLMReply,
    LLMRequest,
    Message,
    ResponseSchema,
    estimate_request_tokens,
    estimate_tokens,
)
from c2v.llm.frames import without_video
from c2v.llm.ratelimit import RateGate
from c2v.llm.retry import Fault, FaultKind, RetryKnobs, pause_before_retry, retry_delay
from c2v.llm.settings import ProviderSettings
from c2v.models import TokenUsage

#: The fault and retry names are imported from here by the providers, as before they moved.
__all__ = ["Fault", "FaultKind", "RetryKnobs", "pause_before_retry", "retry_delay"]

log = structlog.get_logger("c2v.llm")

#: Output tokens booked with the rate limiter before the real count is known.
OUTPUT_RESERVATION = 2000
_RETRY_STATUSES = {408, 409, 429}
_SECRET_PATTERNS = (
    re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_\-*]{6,}"),  # OpenAI/Anthropic style, masked or not
    re.compile(r"\bAIza[0-9A-Za-z_\-]{10,}"),  # Google API keys
    re.compile(r"(?i)\b(bearer|api[-_ ]?key[\"'=: ]+)\s*[A-Za-z0-9_\-.*]{8,}"),
)


@dataclass(frozen=True)
class Sent:
    """What a provider's SDK answered, in the terms c2v needs."""

    text: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    model: str | None = None
    truncated: bool = False  # stopped at the output token limit
    refusal: str | None = None  # the model or a safety filter declined to answer


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret, and anything shaped like a key, replaced."""
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub("***", text)
    return text


def one_line(text: str, limit: int = 240) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def retry_after_s(headers: Mapping[str, str] | None) -> float | None:
    """Seconds asked for by ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        if "retry-after-ms" in lowered:
            return max(0.0, float(lowered["retry-after-ms"]) / 1000)
        if "retry-after" in lowered:
            raw = lowered["retry-after"].strip()
            if re.fullmatch(r"\d+(\.\d+)?", raw):
                return float(raw)
            when = email.utils.parsedate_to_datetime(raw)
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
    except (ValueError, TypeError, OverflowError):
        return None
    return None


def http_fault(status: int, message: str, retry_after: float | None = None) -> Fault:
    """The kind of failure an HTTP status stands for."""
    if status == 429:
        kind = FaultKind.rate_limited
    elif status >= 500 or status in _RETRY_STATUSES:
        kind = FaultKind.server
    elif status in (401, 403):
        kind = FaultKind.auth
    elif status == 404:
        kind = FaultKind.not_found
    else:
        kind = FaultKind.request
    return Fault(kind=kind, message=message, status=status, retry_after=retry_after)


def transport_fault(exc: BaseException) -> Fault | None:
    """A timeout or connection error of an httpx-style client (httpx or httpx2), else None."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "TimeoutException" in names or isinstance(exc, TimeoutError):
        return Fault(kind=FaultKind.timeout, message=type(exc).__name__)
    if names & {"TransportError", "NetworkError", "ConnectError"} or isinstance(exc, ConnectionError):
        return Fault(kind=FaultKind.connection, message=f"{type(exc).__name__}: {exc}")
    return None


def body_message(body: object, fallback: str) -> str:
    """The human part of an error body: ``{"error": {"message": ...}}`` and its relatives."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
        if isinstance(body.get("message"), str):
            return str(body["message"])
    return fallback


def stainless_fault(
    exc: Exception,
    status_error: type[Exception],
    timeout_error: type[Exception],
    connection_error: type[Exception],
) -> Fault | None:
    """Read the exceptions of Stainless-generated SDKs (``openai``, ``anthropic``), which agree."""
    if isinstance(exc, status_error):
        status = int(getattr(exc, "status_code", 0))
        response = getattr(exc, "response", None)
        headers = dict(response.headers) if response is not None else None
        message = body_message(getattr(exc, "body", None), str(getattr(exc, "message", exc)))
        return http_fault(status, message, retry_after_s(headers))
    if isinstance(exc, timeout_error):
        return Fault(kind=FaultKind.timeout, message="request timed out")
    if isinstance(exc, connection_error):
        cause = exc.__cause__ or exc
        return Fault(kind=FaultKind.connection, message=f"{type(cause).__name__}: {cause}")
    return None


def malformed_fault(exc: BaseException) -> Fault | None:
    """A 200 whose body is not JSON (a proxy's error page): the server's fault, worth a retry."""
    if isinstance(exc, json.JSONDecodeError):
        return Fault(kind=FaultKind.server, message=f"the endpoint answered with something not JSON ({exc})")
    return None


def describe_fault(fault: Fault, tries: int, s: ProviderSettings, host: str) -> str:
    """``what went wrong: the cause`` in one line, secrets scrubbed (no provider name)."""
    status = f" (HTTP {fault.status})" if fault.status is not None else ""
    what = {
        FaultKind.timeout: f"no answer within {s.timeout_s:g} s",
        FaultKind.connection: f"cannot reach {host or 'the endpoint'}",
        FaultKind.server: f"server error{status}",
        FaultKind.rate_limited: f"rate limited{status}",
        FaultKind.auth: f"the API key was rejected{status}",
        FaultKind.not_found: f"model or endpoint not found{status}",
        FaultKind.request: f"request rejected{status}",
    }[fault.kind]
    if fault.retry_after is not None and fault.retry_after > s.max_wait_s:
        limit = f"C2V_LLM_MAX_WAIT_S={s.max_wait_s:g}"
        what += f"; it asks to wait {fault.retry_after:.0f} s, more than {limit}"
    elif tries > 1:
        what += f", gave up after {tries} tries"
    if fault.kind is FaultKind.auth:
        cause = f"check the key from {s.key_source}" if s.key_source else "no key is configured"
    else:
        cause = one_line(redact(fault.message, s.secrets()))
    return f"{what}: {cause}"


_ERRORS: dict[FaultKind, type[LLMError]] = {
    FaultKind.timeout: LLMTimeout,
    FaultKind.connection: LLMUnavailable,
    FaultKind.server: LLMUnavailable,
    FaultKind.rate_limited: LLMRateLimited,
    FaultKind.auth: LLMAuthError,
    FaultKind.not_found: LLMRequestError,
    FaultKind.request: LLMPromptRejected,
}


class RemoteLLM(ABC):
    """An :class:`c2v.llm.base.LLMClient` backed by a provider's SDK."""

    #: The provider takes whole videos; otherwise videos are sent as sampled frames.
    accepts_video: ClassVar[bool] = False
    #: Host shown in connection errors when no base_url is configured.
    default_host: ClassVar[str] = ""

    def __init__(self, settings: ProviderSettings, role: str = "coder", gate: RateGate | None = None) -> None:
        self.settings = settings
        self.provider = settings.name
        self.model = settings.model_for(role)
        self.role = role
        self._gate = gate
        self._structured = settings.structured_output

    # -- what a provider module writes ------------------------------------------------------
    @abstractmethod
    def _send(self, messages: list[Message], request: LLMRequest, schema: ResponseSchema | None) -> Sent:
        """Send one request through the SDK (no retries here)."""

    @abstractmethod
    def _fault(self, exc: Exception) -> Fault | None:
        """Read an SDK exception; ``None`` for anything that is not the provider's doing."""

    @abstractmethod
    def _probe(self, timeout_s: float) -> ProbeResult:
        """One cheap request that shows the endpoint answers and takes the key."""

    # -- the shared part ----------------------------------------------------------------------
    @property
    def host(self) -> str:
        return urlsplit(self.settings.base_url).netloc if self.settings.base_url else self.default_host

    def complete(self, request: LLMRequest) -> LLMReply:
        started = time.monotonic()
        messages = request.messages if self.accepts_video else without_video(request.messages)
        booked = estimate_request_tokens(request) + min(
            OUTPUT_RESERVATION, self.settings.max_output_tokens or OUTPUT_RESERVATION
        )
        tries = 0
        while True:
            tries += 1
            ticket = self._wait_turn(booked)
            schema = request.response_schema if self._structured else None
            try:
                sent = self._send(messages, request, schema)
            except Exception as exc:
                fault = self._fault(exc) or malformed_fault(exc)
                if fault is None:
                    raise
                self._settle(ticket, 0)
                if schema is not None and fault.kind is FaultKind.request and fault.status == 400:
                    self._structured = False
                    tries -= 1  # the server lacks structured output: not a try, ask plainly
                    reason = one_line(redact(fault.message, self.settings.secrets()))
                    log.warning(
                        "structured_output_off", provider=self.provider, model=self.model, reason=reason
                    )
                    continue
                delay = self._retry_delay(fault, tries)
                if delay is None:
                    raise self._error(fault, tries) from exc
                pause_before_retry(
                    log, "llm_retry", fault, tries, delay, provider=self.provider, model=self.model
                )
                continue
            return self._reply(sent, messages, ticket, started)

    def _wait_turn(self, tokens: int) -> int | None:
        if self._gate is None:
            return None
        ticket, wait = self._gate.reserve(tokens)
        if wait > 0:
            log.info("llm_rate_wait", provider=self.provider, model=self.model, wait_s=round(wait, 2))
            time.sleep(wait)
        return ticket

    def _settle(self, ticket: int | None, tokens: int) -> None:
        if self._gate is not None and ticket is not None:
            self._gate.settle(ticket, tokens)

    def _retry_delay(self, fault: Fault, tries: int) -> float | None:
        """Seconds to wait before the next try, or ``None`` to give up now."""
        delay = retry_delay(fault, tries, self.settings)
        if delay is not None and fault.retry_after is not None and self._gate is not None:
            self._gate.hold(fault.retry_after)  # every caller of this provider backs off
        return delay

    def _error(self, fault: Fault, tries: int) -> LLMError:
        what = describe_fault(fault, tries, self.settings, self.host)
        return _ERRORS[fault.kind](f"{self.provider} ({self.model}): {what}")

    def _reply(self, sent: Sent, messages: list[Message], ticket: int | None, started: float) -> LLMReply:
        if sent.refusal is not None and not sent.text.strip():
            self._settle(ticket, 0)
            raise LLMRefused(
                f"{self.provider} ({self.model}): the model declined to answer: "
                f"{one_line(redact(sent.refusal, self.settings.secrets()))}"
            )
        prompt = "\n".join(m.plain_text() for m in messages)
        usage = TokenUsage(
            input=sent.input_tokens if sent.input_tokens is not None else estimate_tokens(prompt),
            output=sent.output_tokens if sent.output_tokens is not None else estimate_tokens(sent.text),
        )
        self._settle(ticket, usage.total)
        return LLMReply(
            text=sent.text,
            usage=usage,
            provider=self.provider,
            model=sent.model or self.model,
            latency_s=round(time.monotonic() - started, 4),
            truncated=sent.truncated,
        )

    def probe(self, timeout_s: float = 5.0) -> ProbeResult:
        """Whether the endpoint answers and takes the key, within ``timeout_s``."""
        started = time.monotonic()
        try:
            result = self._probe(timeout_s)
        except Exception as exc:
            fault = self._fault(exc) or malformed_fault(exc)
            if fault is None:
                raise
            if fault.kind is FaultKind.rate_limited:
                return ProbeResult(True, "answers, but is rate limiting now (HTTP 429)")
            return ProbeResult(False, str(self._error(fault, 1)).split(": ", 1)[1])
        ms = (time.monotonic() - started) * 1000
        return ProbeResult(result.ok, f"{result.detail} ({ms:.0f} ms)")
