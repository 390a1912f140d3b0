"""Queue depth of every queue of a run, sampled over AMQP into queues.csv and ring buffers.

One `SamplerThread` per broker (a passive queue.declare per queue, never
rabbitmqctl); a dead or paused broker yields no row, so a plot shows the gap.
AMQP reports ready messages and consumers, not unacknowledged ones: those
are the consumers' side (each amqp service reports `amqp_received` and
`amqp_acked` in its telemetry).
"""

from __future__ import annotations

import csv
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from engines.brokers.sampler import QueueDepth, QueueDepthSampler, SamplerThread


class QueueDepthMonitor:
    """Samples the queues of each broker handle; thread-safe readers for a GUI."""

    def __init__(self, run_dir: Path, brokers: Mapping[str, Any], queues: Mapping[str, list[str]],
                 t0: float | None = None, period_s: float = 0.25, capacity: int = 4000) -> None:
        self.t0 = time.monotonic() if t0 is None else t0
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str], deque[tuple[float, int, int]]] = {}
        self._file = open(Path(run_dir) / "queues.csv", "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._csv = csv.writer(self._file)
        self._csv.writerow(("t_s", "broker", "queue", "ready", "consumers"))
        self._capacity = capacity
        self._threads: list[SamplerThread] = []
        for name, handle in brokers.items():
            names = queues.get(name, [])
            if not names:
                continue
            for queue in names:
                self._series[(name, queue)] = deque(maxlen=capacity)
            sampler = QueueDepthSampler(handle.url, names)
            thread = SamplerThread(sampler, period_s, sink=self._sink_for(name))
            self._threads.append(thread)
            thread.start()

    def _sink_for(self, broker: str) -> Callable[[float, dict[str, QueueDepth]], None]:
        def sink(_wall: float, depths: dict[str, QueueDepth]) -> None:
            t = time.monotonic() - self.t0
            with self._lock:
                if self._file.closed:
                    return
                for queue, depth in depths.items():
                    self._series[(broker, queue)].append((t, depth.ready, depth.consumers))
                    self._csv.writerow((f"{t:.2f}", broker, queue, depth.ready, depth.consumers))
        return sink

    def queues(self) -> list[tuple[str, str]]:
        return sorted(self._series)

    def series(self, broker: str, queue: str) -> tuple[list[float], list[int]]:
        """Times (s since t0) and ready counts of one queue, oldest first."""
        with self._lock:
            rows = list(self._series.get((broker, queue), ()))
        return [r[0] for r in rows], [r[1] for r in rows]

    def latest(self) -> dict[tuple[str, str], tuple[float, int, int]]:
        with self._lock:
            return {key: rows[-1] for key, rows in self._series.items() if rows}

    def close(self) -> None:
        """Stop sampling and close queues.csv (idempotent)."""
        for thread in self._threads:
            thread.stop()
        self._threads = []
        with self._lock:
            if not self._file.closed:
                self._file.close()
