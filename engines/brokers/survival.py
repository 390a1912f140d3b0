"""What survived a broker's kill or stop and restart, per queue: durable and persistent, or not.

For each outage of a broker (killed, stopped, or restarted, then ready again)
and each of its queues: the messages it held in the last sample before the
outage (ready + unacknowledged) and in the first sample after the restart,
from the management API; a queue missing after the restart is gone (it was
not durable). That is the broker-side figure. The exact figure comes from the
ledger: the consuming services' `lost` (acknowledged or sent, never
processed) over the whole run, given beside it with the scope it covers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from engines.brokers.internals import QueueInside
from engines.brokers.plan import link_specs
from engines.topology.model import BrokerNode, Topology

Sample = tuple[float, str, dict[str, QueueInside]]
DOWN = ("killed", "exited")
ReadySeries = Callable[[str, str], tuple[list[float], list[int]]]  # AMQP ready counts (queues.csv)


def queue_meta(topology: Topology) -> dict[tuple[str, str], dict[str, Any]]:
    """(broker, queue) -> its consumers' links, whether its producers publish persistent messages."""
    meta: dict[tuple[str, str], dict[str, Any]] = {}
    for key, spec in link_specs(topology).items():
        link = next(lk for lk in topology.links if lk.key == key)
        source = topology.node(link.source)
        for queue in spec["queues"]:
            entry = meta.setdefault((spec["broker"], queue["name"]),
                                    {"links": [], "persistent": True, "durable": queue["durable"]})
            if isinstance(source, BrokerNode):
                if spec.get("consume") == queue["name"]:
                    entry["links"].append(key)
            elif not getattr(source, "persistent", True):
                entry["persistent"] = False
    return meta


def outages(events: Sequence[dict[str, Any]], broker: str) -> list[tuple[str, float, float]]:
    """(how, down at, ready again at) of each outage of `broker` that ended in the run."""
    found: list[tuple[str, float, float]] = []
    down: tuple[str, float] | None = None
    for e in events:
        if e.get("node") != broker:
            continue
        kind = e.get("event")
        if down is None and (kind in DOWN or (kind == "starting" and e.get("action") == "restart")):
            down = ("restart" if kind == "starting" else "kill" if kind == "killed" else "stop",
                    float(e["t"]))
        elif down is not None and kind == "ready":
            found.append((down[0], down[1], float(e["t"])))
            down = None
    return found


def survival(samples: Sequence[Sample], events: Sequence[dict[str, Any]], topology: Topology,
             links: dict[str, dict[str, Any]], origin_t: float = 0.0,
             ready: ReadySeries | None = None) -> list[dict[str, Any]]:
    """One entry per broker outage: per queue, before, after, gone or kept, and why.

    `ready` gives the AMQP ready counts (a passive declare every 0.25 s, exact when taken);
    where it has a sample nearer the outage than the management API's (its counts lag by
    about a second), the ready part of before and after comes from it."""
    meta = queue_meta(topology)
    report = []
    for broker in [b.name for b in topology.brokers()]:
        mine = [(t, queues) for t, name, queues in samples if name == broker]
        for how, down_t, up_t in outages(events, broker):
            before = next((q for t, q in reversed(mine)
                           if t < down_t and all(x.counted for x in q.values())), None)
            after = next((q for t, q in mine if t > up_t and all(x.counted for x in q.values())), None)
            if before is None:  # too soon for the API's first figures: AMQP ready counts alone
                before = {name: QueueInside(name, durable=bool(m["durable"]))
                          for (b, name), m in meta.items() if b == broker and ready is not None
                          and any(t < down_t for t in ready(broker, name)[0])}
            if not before:
                continue  # no sample before the outage: nothing to say
            rows = [_row(name, _closer(q, ready, broker, down_t, before=True),
                         _after(after, name, ready, broker, up_t), meta.get((broker, name)), links)
                    for name, q in sorted(before.items())]
            report.append({"broker": broker, "how": how, "down_at_s": round(down_t - origin_t, 2),
                           "ready_at_s": round(up_t - origin_t, 2), "sampled_after": after is not None,
                           "queues": rows})
    return report


def _closer(q: QueueInside, ready: ReadySeries | None, broker: str, t: float,
            before: bool) -> QueueInside:
    """The queue with its ready count from the AMQP sample nearest `t` (before or after it)."""
    if ready is None:
        return q
    times, counts = ready(broker, q.name)
    pairs = list(zip(times, counts, strict=True))
    pick = next(((c for tt, c in reversed(pairs) if tt < t)), None) if before else \
        next((c for tt, c in pairs if tt > t), None)
    return q if pick is None else replace(q, ready=int(pick))


def _after(after: dict[str, QueueInside] | None, name: str, ready: ReadySeries | None,
           broker: str, t: float) -> dict[str, QueueInside] | None:
    if after is None or name not in after:
        return after
    return {**after, name: _closer(after[name], ready, broker, t, before=False)}


def _row(name: str, q: QueueInside, after: dict[str, QueueInside] | None,
         meta: dict[str, Any] | None, links: dict[str, dict[str, Any]]) -> dict[str, Any]:
    persistent = bool(meta["persistent"]) if meta else None
    row: dict[str, Any] = {"queue": name, "durable": q.durable, "persistent": persistent,
                           "before": q.messages, "after": None, "dropped": None}
    if after is not None:
        kept = after.get(name)
        row["after"] = kept.messages if kept is not None else None
        row["gone"] = kept is None
        row["dropped"] = max(0, q.messages - (kept.messages if kept is not None else 0))
    row["why"] = _why(q, row, persistent)
    if meta and meta["links"]:
        row["ledger_lost"] = sum(int(links.get(key, {}).get("lost", 0)) for key in meta["links"])
        row["ledger_links"] = list(meta["links"])
    return row


def _why(q: QueueInside, row: dict[str, Any], persistent: bool | None) -> str:
    if row.get("gone"):
        return "the queue was not durable: it and its messages went with the broker"
    if not q.durable:
        return ("the queue was not durable: it went with the broker and its messages with it "
                "(a client or consumer declared a new, empty one)")
    if q.type in ("quorum", "stream"):
        return f"a {q.type} queue keeps every message on disk"
    if persistent is False:
        return "durable queue, transient messages: the queue came back, its messages did not"
    if persistent and row.get("after") is not None and row["after"] > q.messages:
        return ("durable queue and persistent messages: kept on disk; more after than before, "
                "because acks the broker had not yet written to disk died with it (those "
                "messages came back, redelivered)")
    if persistent:
        return "durable queue and persistent messages: kept on disk"
    return "durable queue"

