"""A service's live counters for telemetry: deliveries per client (so per link), replies, errors.

The ledger does not use these (it reads the database); they feed the live
plots and tell the supervisor when the services have caught up with the
clients at the end of a run.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from engines.ledger.histogram import HeldLatencies, Histogram


class ServiceStats:
    """Cumulative counters of one service process life; thread-safe."""

    def __init__(self, n_clients: int) -> None:
        self._lock = threading.Lock()
        self.counters: dict[str, int] = {
            "delivered": 0, "applied": 0, "duplicates_suppressed": 0, "replies_sent": 0,
            "errors": 0, "redelivered": 0,
        }
        self.by_client = [0] * max(1, n_clients)  # deliveries per client index
        self.latency = Histogram()  # send-to-commit latency of each delivery
        self._held = HeldLatencies(self.latency)  # lockstep: added at the next snapshot

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counters[name] = self.counters.get(name, 0) + n

    def gauge(self, name: str, value: int) -> None:
        """A level (calls in flight) and its peak (`<name>` with `_peak` before any '|')."""
        head, sep, tail = name.partition("|")
        with self._lock:
            self.counters[name] = value
            peak = f"{head}_peak{sep}{tail}"
            if value > self.counters.get(peak, 0):
                self.counters[peak] = value

    def delivered(self, by_client: Mapping[int, int], applied: int, duplicates: int,
                  redelivered: int, now_ns: int, sent_ns: Mapping[int, int] | list[int]) -> None:
        """One committed batch (called by the handler) at `now_ns`; its deliveries' send times
        as {ts: how many} or one each, so the latencies are recorded in bulk (`Histogram.add_since`)."""
        with self._lock:
            c = self.counters
            n = applied + duplicates
            c["delivered"] += n
            c["applied"] += applied
            c["duplicates_suppressed"] += duplicates
            c["redelivered"] += redelivered
            for client, k in by_client.items():
                if 0 <= client < len(self.by_client):
                    self.by_client[client] += k
            self.latency.add_since(now_ns, sent_ns, n)

    def delivered_one(self, client: int, duplicate: bool, redelivered: int, latency_ns: int) -> None:
        """One committed delivery (a lockstep request): `delivered` without its dict and lists."""
        with self._lock:
            c = self.counters
            c["delivered"] += 1
            c["duplicates_suppressed" if duplicate else "applied"] += 1
            if redelivered:
                c["redelivered"] += 1
            if 0 <= client < len(self.by_client):
                self.by_client[client] += 1
            self._held.add(latency_ns)

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            self._held.fold()
            return {"c": dict(self.counters), "by_client": list(self.by_client),
                    "h": self.latency.to_wire()}
