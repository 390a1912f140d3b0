"""The seam to the broker internals (engines.brokers.internals_monitor, .survival), lazily.

A run with managed brokers samples their insides (ready, unacknowledged,
redelivered per queue; exchanges and bindings) on threads of their own; the
summary gets, per broker outage, what survived it (`broker_survival`) and the
peak figures of each queue (`broker_queues`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engines.topology.model import Topology


def start(run_dir: Path, brokers: Mapping[str, Any], t0: float) -> Any:
    """An InternalsMonitor over the brokers that have a management API, or None."""
    try:
        from engines.brokers.internals import has_api
        from engines.brokers.internals_monitor import InternalsMonitor
    except ImportError:
        return None
    if not any(has_api(h) for h in brokers.values()):
        return None
    return InternalsMonitor(run_dir, brokers, t0)


def report(monitor: Any, events: list[dict[str, Any]], topology: Topology,
           links: dict[str, dict[str, Any]], depths: Any = None) -> dict[str, Any]:
    """Summary entries: `broker_survival` (per outage, per queue) and `broker_queues` (peaks)."""
    from engines.brokers.survival import survival

    origin = next((float(e.get("origin_t", 0.0)) for e in events if e.get("event") == "run-started"), 0.0)
    samples = list(monitor.samples)
    peaks: dict[str, dict[str, int]] = {}
    for _t, broker, queues in samples:
        for q in queues.values():
            if not q.counted:
                continue
            row = peaks.setdefault(f"{broker}/{q.name}", {"ready_max": 0, "unacked_max": 0,
                                                          "redelivered": 0, "durable": int(q.durable)})
            row["ready_max"] = max(row["ready_max"], q.ready)
            row["unacked_max"] = max(row["unacked_max"], q.unacked)
            row["redelivered"] = max(row["redelivered"], q.redelivered)
    ready = depths.series if depths is not None else None  # AMQP ready counts, every 0.25 s
    return {"broker_survival": survival(samples, events, topology, links, origin, ready),
            "broker_queues": peaks}


def lines(report: Sequence[dict[str, Any]]) -> list[str]:
    """What survived each broker outage, as plain sentences (the CLI's summary, a tooltip)."""
    out = []
    for outage in report:
        if not outage.get("queues"):
            continue
        out.append(f"{outage['broker']}: {outage['how']} at {outage['down_at_s']:g} s, "
                   f"ready again at {outage['ready_at_s']:g} s")
        for row in outage["queues"]:
            after = "gone" if row.get("gone") else ("not sampled" if row["after"] is None else row["after"])
            text = f"  {row['queue']}: {row['before']} before, {after} after"
            if row.get("ledger_lost") is not None:
                text += f"; ledger lost {row['ledger_lost']}"
            out.append(f"{text} ({row['why']})")
    return out
