"""The pacer: which sequence numbers a client may send now, at its rate, until its end.

Drivers ask `take(n)` and get the sequence numbers that are due (at most n),
waiting until at least one is. Scheduling is by absolute time from the start
(message k is due at start + k / rate), so a client that stalled (a paused
service) catches up afterwards, as an open-loop load generator does. Rate 0
means as fast as the driver can send: `take(n)` gives n at once.
"""

from __future__ import annotations

import threading
import time


class Pacer:
    """Hands out sequence numbers `start .. limit-1` at `rate` until `duration_s` or stop."""

    def __init__(self, rate: float, limit: int, stop: threading.Event, start: int = 0,
                 duration_s: float | None = None) -> None:
        self.rate = float(rate)
        self.limit = int(limit)
        self.next = int(start)
        self.first = int(start)
        self.stop = stop
        self.started = time.monotonic()
        self.deadline = self.started + duration_s if duration_s else None
        self._lock = threading.Lock()  # async HTTP clients take from several threads

    @property
    def finished(self) -> bool:
        """No more sequence numbers will come (count reached, duration over, or stop)."""
        if self.stop.is_set() or self.next >= self.limit:
            return True
        return self.deadline is not None and time.monotonic() >= self.deadline

    def take(self, max_n: int = 1) -> range:
        """The due sequence numbers (1..max_n of them), or an empty range at the end."""
        with self._lock:
            while True:
                if self.finished:
                    return range(0)
                room = min(max_n, self.limit - self.next)
                if self.rate <= 0:
                    n = room
                else:
                    now = time.monotonic()
                    due = int((now - self.started) * self.rate) + 1 - (self.next - self.first)
                    if due <= 0:
                        wake = self.started + (self.next - self.first) / self.rate
                        if self.deadline is not None:
                            wake = min(wake, self.deadline)
                        self.stop.wait(min(max(wake - now, 0.0), 0.05))
                        continue
                    n = min(room, due)
                first = self.next
                self.next += n
                return range(first, first + n)

    def next_due_in(self) -> float:
        """Seconds until the next sequence number is due (0 when one is due or at rate 0)."""
        if self.rate <= 0:
            return 0.0
        wake = self.started + (self.next - self.first) / self.rate
        return max(0.0, wake - time.monotonic())
