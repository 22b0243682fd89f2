"""Requests-per-minute and tokens-per-minute limits, shared by every caller of a provider.

:class:`RateWindow` is the bookkeeping: a sliding 60-second window of admitted requests
and their tokens. It never blocks; :meth:`RateWindow.reserve` answers how long the caller
must wait before sending, and books the request at that moment, first come first served,
so callers that ask at the same time are spread out instead of stampeding. In a run the
window lives in one named Ray actor (``cluster/limits.py``) that every agent actor asks;
in a single process :class:`LocalRateGate` wraps it with a lock. A 429 from the provider
puts the whole window on hold, so every caller backs off, not only the one that was told.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

WINDOW_S = 60.0


class RateGate(Protocol):
    """What a provider client asks before each request and tells after it."""

    def reserve(self, tokens: int) -> tuple[int, float]:
        """Book a request of about ``tokens``; return its ticket and the seconds to wait."""
        ...

    def settle(self, ticket: int, tokens: int) -> None:
        """Replace the booked estimate with what the request really used."""
        ...

    def hold(self, seconds: float) -> None:
        """Admit nothing for ``seconds`` (the provider said Retry-After)."""
        ...


@dataclass
class _Booking:
    at: float
    ticket: int
    tokens: int


class RateWindow:
    """Sliding-window bookkeeping for ``rpm`` requests and ``tpm`` tokens per minute."""

    def __init__(
        self, rpm: int | None = None, tpm: int | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rpm, self.tpm = rpm, tpm
        self._clock = clock
        self._bookings: list[_Booking] = []
        self._next_ticket = 0
        self._hold_until = 0.0

    def configure(self, rpm: int | None, tpm: int | None) -> None:
        self.rpm, self.tpm = rpm, tpm

    def _earliest(self, start: float, tokens: int) -> float:
        """The first moment at or after ``start`` when a request of ``tokens`` fits.

        Bookings are never placed before an earlier booking, so every booking in the
        window that ends at ``start`` lies at or before it.
        """
        while True:
            window = [b for b in self._bookings if b.at > start - WINDOW_S]
            t = start
            if self.rpm and len(window) >= self.rpm:
                t = max(t, window[len(window) - self.rpm].at + WINDOW_S)
            if self.tpm:
                excess = sum(b.tokens for b in window) + tokens - self.tpm
                for b in window:  # oldest first: wait until enough of them leave the window
                    if excess <= 0:
                        break
                    excess -= b.tokens
                    t = max(t, b.at + WINDOW_S)
            if t <= start:
                return start
            start = t

    def reserve(self, tokens: int) -> tuple[int, float]:
        now = self._clock()
        self._bookings = [b for b in self._bookings if b.at > now - WINDOW_S]
        last = self._bookings[-1].at if self._bookings else now
        at = self._earliest(max(now, last, self._hold_until), max(0, tokens))
        self._next_ticket += 1
        self._bookings.append(_Booking(at=at, ticket=self._next_ticket, tokens=max(0, tokens)))
        return self._next_ticket, at - now

    def settle(self, ticket: int, tokens: int) -> None:
        for booking in self._bookings:
            if booking.ticket == ticket:
                booking.tokens = max(0, tokens)
                return

    def hold(self, seconds: float) -> None:
        self._hold_until = max(self._hold_until, self._clock() + max(0.0, seconds))


class LocalRateGate:
    """A :class:`RateWindow` shared by the threads of one process."""

    def __init__(self, rpm: int | None = None, tpm: int | None = None) -> None:
        self._window = RateWindow(rpm, tpm)
        self._lock = threading.Lock()

    def reserve(self, tokens: int) -> tuple[int, float]:
        with self._lock:
            return self._window.reserve(tokens)

    def settle(self, ticket: int, tokens: int) -> None:
        with self._lock:
            self._window.settle(ticket, tokens)

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._window.hold(seconds)
