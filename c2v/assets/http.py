"""One GET with the LLM providers' retry policy, for the icon services.

Timeouts, connection errors and HTTP 408/409/429/5xx are retried with exponential backoff
and jitter, at least as long as ``Retry-After`` asks and never longer than ``max_wait_s``,
up to ``max_tries`` requests (:mod:`c2v.llm.remote` reads the faults the same way). A
request that still fails raises :class:`c2v.errors.AssetServiceUnavailable`; any other HTTP
error raises :class:`c2v.errors.AssetFetchError`. Messages and log lines name the service,
the path and the status, never a header, and are scrubbed of the configured secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx2
import structlog

from c2v.assets.settings import AssetSettings
from c2v.errors import AssetFetchError, AssetServiceUnavailable
from c2v.llm.remote import (
    Fault,
    FaultKind,
    http_fault,
    one_line,
    pause_before_retry,
    redact,
    retry_after_s,
    retry_delay,
    transport_fault,
)

log = structlog.get_logger("c2v.assets")


def make_client(settings: AssetSettings) -> httpx2.Client:
    timeout = httpx2.Timeout(settings.timeout_s, connect=min(settings.connect_timeout_s, settings.timeout_s))
    # Redirects are followed by httpx2, which drops Authorization when the origin changes.
    return httpx2.Client(timeout=timeout, follow_redirects=True, headers={"user-agent": "c2v-assets"})


def get(
    client: httpx2.Client,
    service: str,
    url: str,
    settings: AssetSettings,
    params: Mapping[str, str | int] | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx2.Response:
    """A 2xx response for ``url``, after retries; one-line errors otherwise."""
    where = f"{service} {urlsplit(url).path}"
    tries = 0
    while True:
        tries += 1
        fault: Fault | None
        try:
            response = client.get(url, params=params, headers=headers)
        except httpx2.HTTPError as exc:
            fault = transport_fault(exc) or Fault(kind=FaultKind.connection, message=type(exc).__name__)
        else:
            if response.is_success:
                return response
            fault = http_fault(response.status_code, _body_line(response), retry_after_s(response.headers))
        delay = retry_delay(fault, tries, settings)
        if delay is None:
            raise _error(where, fault, tries, settings)
        pause_before_retry(log, "asset_retry", fault, tries, delay, service=service)


def _body_line(response: httpx2.Response) -> str:
    try:
        text = response.text
    except (UnicodeDecodeError, httpx2.HTTPError):
        return ""
    return text[:200]


def _error(where: str, fault: Fault, tries: int, settings: AssetSettings) -> AssetFetchError:
    status = f"HTTP {fault.status}" if fault.status is not None else fault.kind.value
    after = f" after {tries} tries" if tries > 1 else ""
    if fault.retry_after is not None and fault.retry_after > settings.max_wait_s:
        after += f"; it asks to wait {fault.retry_after:.0f} s, more than C2V_LLM_MAX_WAIT_S"
    cause = one_line(redact(fault.message, settings.secrets()), 160)
    message = f"{where}: {status}{after}" + (f": {cause}" if cause else "")
    unavailable = fault.kind.retryable
    return AssetServiceUnavailable(message) if unavailable else AssetFetchError(message)
