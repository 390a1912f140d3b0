"""The collector's per-interval latency percentiles (engines.runtime.metrics), one life and two."""

from __future__ import annotations

import math
from pathlib import Path

from engines.ledger.histogram import Histogram
from engines.runtime.metrics import Collector


def _life(col: Collector, pid: int, hist: Histogram) -> None:
    with col._lock:
        col._lives["svc"][pid] = {"t": "metrics", "node": "svc", "pid": pid, "ts": pid, "c": {"applied": 1},
                                  "h": hist.to_wire()}
        col._fresh.add("svc")


def _p50_p99(col: Collector) -> tuple[float, float]:
    t, p50 = col.series("svc", "p50_latency_ms")
    _, p99 = col.series("svc", "p99_latency_ms")
    return float(p50[-1]), float(p99[-1])


def test_each_sample_has_the_percentiles_of_what_was_timed_since_the_last(tmp_path: Path) -> None:
    col = Collector(tmp_path, {"svc": "service"}, lambda *args: None)
    try:
        first = Histogram()
        for _ in range(99):
            first.add(1_000_000)  # 1 ms
        first.add(9_000_000)
        _life(col, 10, first)
        col._sample(0.1)
        p50, p99 = _p50_p99(col)
        assert math.isclose(p50, 1.0, rel_tol=0.01) and math.isclose(p99, 1.0, rel_tol=0.01)
        for _ in range(100):
            first.add(4_000_000)  # the next interval: 4 ms each
        _life(col, 10, first)
        col._sample(0.2)
        p50, p99 = _p50_p99(col)
        assert math.isclose(p50, 4.0, rel_tol=0.01) and math.isclose(p99, 4.0, rel_tol=0.01)
        assert col.histogram("svc").total == 200
        col.histogram("svc").add(50_000_000)  # a caller's copy: the collector's own is unchanged
        second = Histogram()  # a restarted service: a second life, its own histogram
        for _ in range(100):
            second.add(2_000_000)
        _life(col, 11, second)
        col._sample(0.3)
        p50, p99 = _p50_p99(col)
        assert math.isclose(p50, 2.0, rel_tol=0.01) and math.isclose(p99, 2.0, rel_tol=0.01)
        assert col.histogram("svc").total == 300
    finally:
        col.close()
