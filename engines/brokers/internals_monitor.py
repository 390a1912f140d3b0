"""Samples every managed broker's insides during a run: internals.csv, ring buffers, routing.

One thread per broker asks the management API (engines.brokers.internals)
every `period_s` for its queues, and every few samples for its exchanges and
bindings. Rows go to `internals.csv` (t_s on the run folder's clock, like
queues.csv); the last routing seen goes to `broker-routing.json`. A GUI reads
`latest()` and `series()` from any thread. External brokers are not sampled
(the lab has no management credentials for them).
"""

from __future__ import annotations

import csv
import json
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from engines.brokers.internals import Inside, QueueInside, fetch, has_api

ROUTING_EVERY = 4  # exchanges and bindings change rarely: every 4th sample
Row = tuple[float, int, int, int]  # t, ready, unacked, redelivered


class InternalsMonitor:
    """The insides of each managed broker of a run, sampled on threads of their own."""

    def __init__(self, run_dir: Path, brokers: Mapping[str, Any], t0: float,
                 period_s: float = 0.5, capacity: int = 4000) -> None:
        self.run_dir = Path(run_dir)
        self.t0 = t0
        self.period_s = period_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._series: dict[tuple[str, str], deque[Row]] = {}
        self._capacity = capacity
        self._latest: dict[str, tuple[float, Inside]] = {}
        self._routing: dict[str, dict[str, Any]] = {}
        self.samples: list[tuple[float, str, dict[str, QueueInside]]] = []  # the whole run (survival)
        self._file = open(self.run_dir / "internals.csv", "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._csv = csv.writer(self._file)
        self._csv.writerow(("t_s", "broker", "queue", "type", "durable", "ready", "unacked",
                            "redelivered", "consumers"))
        self._threads = [threading.Thread(target=self._run, args=(name, handle), daemon=True,
                                          name=f"internals:{name}")
                         for name, handle in brokers.items() if has_api(handle)]
        for thread in self._threads:
            thread.start()

    @property
    def brokers(self) -> list[str]:
        return [t.name.split(":", 1)[1] for t in self._threads]

    def latest(self, broker: str) -> tuple[float, Inside] | None:
        """(t since t0, insides) of the broker's last answer; None before the first."""
        with self._lock:
            return self._latest.get(broker)

    def series(self, broker: str, queue: str) -> list[Row]:
        with self._lock:
            return list(self._series.get((broker, queue), ()))

    def queues(self) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(self._series)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5.0)
        with self._lock:
            if not self._file.closed:
                self._file.close()

    # -- sampling thread ----------------------------------------------------------------
    def _run(self, broker: str, handle: Any) -> None:
        count = 0
        while not self._stop.is_set():
            try:
                inside = fetch(handle, routing=count % ROUTING_EVERY == 0)
            except Exception:  # noqa: BLE001 - a monitor outlives any broker state
                inside = None
            if inside is not None:
                self._record(broker, inside, with_routing=count % ROUTING_EVERY == 0)
                count += 1
            self._stop.wait(self.period_s)

    def _record(self, broker: str, inside: Inside, with_routing: bool) -> None:
        t = time.monotonic() - self.t0
        with self._lock:
            if self._file.closed:
                return
            if not with_routing and broker in self._latest:  # keep the last routing seen
                old = self._latest[broker][1]
                inside.exchanges, inside.bindings = old.exchanges, old.bindings
            self._latest[broker] = (t, inside)
            self.samples.append((t, broker, dict(inside.queues)))
            for q in inside.queues.values():
                if not q.counted:
                    continue
                key = (broker, q.name)
                if key not in self._series:
                    self._series[key] = deque(maxlen=self._capacity)
                self._series[key].append((t, q.ready, q.unacked, q.redelivered))
                self._csv.writerow((f"{t:.2f}", broker, q.name, q.type, int(q.durable), q.ready,
                                    q.unacked, q.redelivered, q.consumers))
            self._file.flush()
            if with_routing:
                self._routing[broker] = {"exchanges": inside.exchanges,
                                         "bindings": [asdict(b) for b in inside.bindings]}
                path = self.run_dir / "broker-routing.json"
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(self._routing, indent=1), encoding="utf-8")
                tmp.replace(path)
