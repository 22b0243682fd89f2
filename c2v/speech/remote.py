"""What the SDK-backed speech providers share: the LLM providers' retry policy and errors.

A provider writes :meth:`RemoteSpeech._send` (one request through its SDK, no retries)
and :meth:`RemoteSpeech._fault` (its SDK's exceptions read as a
:class:`c2v.llm.remote.Fault`). Retries, backoff, ``Retry-After`` and the one-line,
secret-free error messages come from :mod:`c2v.llm.remote`, with the same
``C2V_LLM_*`` knobs, carried by the endpoint's :class:`ProviderSettings`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar
from urllib.parse import urlsplit

import structlog

from c2v.errors import (
    SpeechAuthError,
    SpeechError,
    SpeechRateLimited,
    SpeechRequestError,
    SpeechTimeout,
    SpeechUnavailable,
)
from c2v.llm.remote import Fault, FaultKind, describe_fault, malformed_fault, pause_before_retry, retry_delay
from c2v.llm.settings import ProviderSettings
from c2v.speech.base import SpeechRequest

log = structlog.get_logger("c2v.speech")

_ERRORS: dict[FaultKind, type[SpeechError]] = {
    FaultKind.timeout: SpeechTimeout,
    FaultKind.connection: SpeechUnavailable,
    FaultKind.server: SpeechUnavailable,
    FaultKind.rate_limited: SpeechRateLimited,
    FaultKind.auth: SpeechAuthError,
    FaultKind.not_found: SpeechRequestError,
    FaultKind.request: SpeechRequestError,
}


class RemoteSpeech(ABC):
    name: ClassVar[str]
    default_host: ClassVar[str] = ""

    def __init__(self, connection: ProviderSettings) -> None:
        self.connection = connection

    @abstractmethod
    def _send(self, request: SpeechRequest) -> bytes:
        """One request through the SDK (no retries here)."""

    @abstractmethod
    def _fault(self, exc: Exception) -> Fault | None:
        """Read an SDK exception; ``None`` for anything that is not the provider's doing."""

    @property
    def host(self) -> str:
        url = self.connection.base_url
        return urlsplit(url).netloc if url else self.default_host

    def synthesize(self, request: SpeechRequest) -> bytes:
        tries = 0
        while True:
            tries += 1
            try:
                return self._send(request)
            except Exception as exc:
                fault = self._fault(exc) or malformed_fault(exc)
                if fault is None:
                    raise
                delay = retry_delay(fault, tries, self.connection)
                if delay is None:
                    what = describe_fault(fault, tries, self.connection, self.host)
                    raise _ERRORS[fault.kind](f"speech {self.name} ({request.model}): {what}") from exc
                pause_before_retry(
                    log, "speech_retry", fault, tries, delay, provider=self.name, model=request.model
                )
