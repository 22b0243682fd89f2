"""A remote call's failure, read (:class:`Fault`), and the one retry policy of every remote
call (LLM, speech, icon services): whether and when to try again."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import structlog


class FaultKind(StrEnum):
    timeout = "timeout"
    connection = "connection"
    rate_limited = "rate_limited"
    server = "server"
    auth = "auth"
    not_found = "not_found"
    request = "request"

    @property
    def retryable(self) -> bool:
        return self in {FaultKind.timeout, FaultKind.connection, FaultKind.rate_limited, FaultKind.server}


@dataclass(frozen=True)
class Fault:
    """An SDK exception, read: what went wrong, the HTTP status, and how long to wait."""

    kind: FaultKind
    message: str
    status: int | None = None
    retry_after: float | None = None


class RetryKnobs(Protocol):
    """The knobs of the retry policy; provider settings and asset settings both carry them."""

    @property
    def max_tries(self) -> int: ...
    @property
    def backoff_s(self) -> float: ...
    @property
    def backoff_max_s(self) -> float: ...
    @property
    def max_wait_s(self) -> float: ...


def retry_delay(fault: Fault, tries: int, s: RetryKnobs) -> float | None:
    """The one retry policy: seconds to wait before try ``tries + 1``, or ``None`` to give up.

    Exponential backoff with jitter, capped, never shorter than ``Retry-After``; a
    ``Retry-After`` longer than ``max_wait_s`` gives up at once. Speech providers and the
    icon services use it too.
    """
    if not fault.kind.retryable or tries >= s.max_tries:
        return None
    if fault.retry_after is not None and fault.retry_after > s.max_wait_s:
        return None
    base = min(s.backoff_max_s, s.backoff_s * 2.0 ** (tries - 1))
    delay = base / 2 + random.uniform(0, base / 2)  # noqa: S311 - jitter, not cryptography
    return delay if fault.retry_after is None else max(delay, fault.retry_after)


def pause_before_retry(
    logger: structlog.typing.FilteringBoundLogger,
    event: str,
    fault: Fault,
    tries: int,
    delay: float,
    **who: object,
) -> None:
    """Log the retry (``who`` names the provider or service and model) and wait ``delay`` seconds."""
    logger.warning(
        event, **who, attempt=tries, fault=fault.kind.value, status=fault.status, delay_s=round(delay, 2)
    )
    time.sleep(delay)


__all__ = ["Fault", "FaultKind", "RetryKnobs", "pause_before_retry", "retry_delay"]
