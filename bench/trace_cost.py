"""The cost of message tracing at full rate: the same lab run with LAB_TRACE=off and =anomalies.

Used by bench_zmq_pushpull.py and bench_amqp_notification.py (`--trace-cost`):
alternating rounds, medians, and the throughput lost to tracing in percent
(issue 15's budget: at most 10 %). At rate 0 the lab picks `anomalies` by
itself (engines.runtime.tracing); this forces each mode for the comparison.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable


def measure(rate: Callable[[], float], repeat: int) -> dict[str, float]:
    rates: dict[str, list[float]] = {"off": [], "anomalies": []}
    before = os.environ.get("LAB_TRACE")
    try:
        for i in range(repeat):
            for mode in ("off", "anomalies") if i % 2 == 0 else ("anomalies", "off"):
                os.environ["LAB_TRACE"] = mode
                rates[mode].append(rate())
                print(f"  trace round {i + 1}, {mode}: {rates[mode][-1]:,.0f} msg/s", flush=True)
    finally:
        if before is None:
            os.environ.pop("LAB_TRACE", None)
        else:
            os.environ["LAB_TRACE"] = before
    off, on = statistics.median(rates["off"]), statistics.median(rates["anomalies"])
    return {"off": off, "anomalies": on, "cost_percent": 100.0 * (1.0 - on / off)}


def report(name: str, result: dict[str, float], repeat: int) -> None:
    print(f"{name} with tracing off: {result['off']:,.0f} msg/s; with anomaly tracing: "
          f"{result['anomalies']:,.0f} msg/s (medians of {repeat})")
    verdict = "within" if result["cost_percent"] <= 10.0 else "OVER"
    print(f"tracing cost: {result['cost_percent']:.1f} % of throughput ({verdict} the 10 % budget)")
