"""Resilience on a service's synchronous calls: a bulkhead and a circuit breaker (issue 12).

The cure the seed's book gives for the pile-up of remote procedure calls: a
bounded number of calls at once (excess refused at once, counted, instead of
queuing) and a breaker that opens after N consecutive failures, fails fast
while open, and lets one trial call through after a delay (half-open). Each
state change is reported, so the run's timeline shows it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class Bulkhead:
    """At most `limit` calls at once (0 = no limit); `enter` never waits."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self.peak = 0
        self._lock = threading.Lock()

    def enter(self) -> bool:
        with self._lock:
            if self.limit and self.active >= self.limit:
                return False
            self.active += 1
            self.peak = max(self.peak, self.active)
            return True

    def leave(self) -> None:
        with self._lock:
            self.active -= 1


class Breaker:
    """Opens after `failures` consecutive failures (0 = never), half-opens after `open_ms`."""

    def __init__(self, failures: int, open_ms: int,
                 on_change: Callable[[str, str], None] = lambda old, new: None) -> None:
        self.failures, self.open_s = failures, open_ms / 1000.0
        self.state = CLOSED
        self.consecutive = 0
        self.opened_at = 0.0
        self.trial = False  # a half-open trial call is out
        self.on_change = on_change
        self._lock = threading.Lock()

    def _move(self, new: str) -> None:
        old, self.state = self.state, new
        if old != new:
            self.on_change(old, new)

    def allow(self) -> bool:
        """Whether a call may go out now (False = short-circuited)."""
        if not self.failures:
            return True
        with self._lock:
            if self.state == OPEN and time.monotonic() - self.opened_at >= self.open_s:
                self._move(HALF_OPEN)
            if self.state == CLOSED:
                return True
            if self.state == HALF_OPEN and not self.trial:
                self.trial = True
                return True
            return False

    def success(self) -> None:
        if not self.failures:
            return
        with self._lock:
            self.consecutive, self.trial = 0, False
            self._move(CLOSED)

    def failure(self) -> None:
        if not self.failures:
            return
        with self._lock:
            self.consecutive += 1
            if self.state == HALF_OPEN or (self.state == CLOSED and self.consecutive >= self.failures):
                self.trial = False
                self.opened_at = time.monotonic()
                self._move(OPEN)
