"""The lab's side of each benchmarked path: a small topology run by the real supervisor, checked
exact by the ledger, and its figure.

Every function returns (figure, check): the check is a short text naming
what the ledger counted, and it raises when a round is not exact (a message
lost, duplicated or unanswered), so no figure ever comes from a broken run.
Throughput is taken from the service's telemetry (10 samples a second,
between the first sample that saw deliveries and the first that saw them
all); lockstep round trips from the client's latency histogram (its p50 from
an HdrHistogram: within 1 %, or 1 us).
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

import numpy as np

PAYLOAD = 256
STEADY_SAMPLES = 3  # the shortest span of sample intervals a rate is taken over


class NotExact(AssertionError):
    """The ledger found a round that lost, duplicated or left unanswered a message."""


def _run(topo: Any, rate_of: str | None = None) -> tuple[dict[str, Any], float | None]:
    from engines.runtime import Supervisor

    with tempfile.TemporaryDirectory() as tmp:
        with Supervisor(topo, Path(tmp) / "run") as sup:
            summary = sup.run()
            series = sup.metrics.series(rate_of, "delivered") if rate_of else None
    if series is None:
        return summary, None
    t, delivered = series
    return summary, steady_rate(t, delivered, int(delivered.max()) if len(delivered) else 0)


def steady_rate(t: Any, delivered: Any, n: int) -> float | None:
    """Deliveries a second between two telemetry samples taken while deliveries went on.

    The first sample that saw any delivery starts the span; it ends at the sample before the
    one that saw all `n` (that one comes up to a sample interval, 0.1 s, after the last
    delivery, which read a 1 s run up to 10 % slow), unless that leaves under 3 intervals.
    Raw's receivers time their first to last message; this is the same steady rate."""
    started, finished = np.flatnonzero(delivered > 0), np.flatnonzero(delivered >= max(n, 1))
    if not len(started) or not len(finished) or finished[0] <= started[0]:
        return None
    a, b = started[0], finished[0]
    if b - 1 - a >= STEADY_SAMPLES:
        b -= 1
    return float((delivered[b] - delivered[a]) / (t[b] - t[a]))


def _exact(total: dict[str, Any], n: int, acked: str | None = None) -> str:
    ok = (total["sent"] == n and total["processed"] == n and total["lost"] == 0
          and total["duplicates_processed"] == 0 and (acked is None or total[acked] == n))
    check = f"sent {total['sent']:,}, processed {total['processed']:,}, lost {total['lost']}" + (
        f", {acked} {total[acked]:,}" if acked else "")
    if not ok:
        raise NotExact(check)
    return check


def _topology(name: str, nodes: list[Any], links: list[dict[str, Any]]) -> Any:
    from engines.topology.model import Topology

    return Topology(name=name, nodes=nodes, links=links)


def pushpull(n: int, per_frame: int) -> tuple[float, str]:
    """msg/s through one lab PUSH/PULL link, rate 0, every message committed."""
    from engines.topology.model import ClientNode, ServiceNode

    topo = _topology("bench-push-pull", [
        ClientNode(name="c", style="notification", transport="zmq", rate=0, count=n,
                   payload_bytes=PAYLOAD, messages_per_frame=per_frame),
        ServiceNode(name="s", processing_ms=0, idempotent=True)], [{"from": "c", "to": "s"}])
    summary, rate = _run(topo, "s")
    check = _exact(summary["total"], n)
    if rate is None:
        raise NotExact("too short to measure: raise the message count")
    return rate, check


def lockstep(transport: str, m: int, broker_url: str | None = None) -> tuple[dict[str, float], str]:
    """One request at a time (zmq REQ/Lazy Pirate, http keep-alive, amqp RPC with confirms and
    persistent messages, the lab's defaults otherwise): the client's p50 and mean round trip."""
    from engines.topology.model import BrokerNode, ClientNode, ServiceNode

    client = ClientNode(name="c", style="request-response", transport=transport, rate=0, count=m,
                        payload_bytes=PAYLOAD, timeout_ms=5000, in_flight=1,
                        **({"confirms": True, "persistent": True, "mandatory": True}
                           if transport == "amqp" else {}))
    service = ServiceNode(name="s", processing_ms=0, idempotent=True)
    if transport == "amqp":
        nodes = [client, BrokerNode(name="rabbit", url=broker_url), service]
        links = [{"from": "c", "to": "rabbit", "channel": f"bench-rpc-{uuid.uuid4().hex[:8]}"},
                 {"from": "rabbit", "to": "s", "durable": True, "queue_type": "classic"}]
    else:
        nodes, links = [client, service], [{"from": "c", "to": "s"}]
    summary, rate = _run(_topology(f"bench-lockstep-{transport}", nodes, links), "s")
    check = _exact(summary["total"], m, "replies")
    if rate is None:
        raise NotExact("too short to measure: raise the request count")
    return {"p50_ms": float(summary["nodes"]["c"]["p50_latency_ms"]), "rate": rate}, check


def dealer(n: int, in_flight: int) -> tuple[float, str]:
    """Requests a second through a zmq DEALER client (async request-response, rate 0) and a
    ROUTER service that commits each batch before replying to every request in it."""
    from engines.topology.model import ClientNode, ServiceNode

    topo = _topology("bench-dealer", [
        ClientNode(name="c", style="async-request-response", transport="zmq", rate=0, count=n,
                   payload_bytes=PAYLOAD, in_flight=in_flight, timeout_ms=5000),
        ServiceNode(name="s", processing_ms=0, idempotent=True)], [{"from": "c", "to": "s"}])
    summary, rate = _run(topo, "s")
    check = _exact(summary["total"], n, "replies")
    if rate is None:
        raise NotExact("too short to measure: raise the request count")
    return rate, check


def amqp_notification(url: str | list[str], n: int, prefetch: int | None, quorum: bool = False) -> tuple[float, str]:
    """msg/s end to end through a lab amqp notification link (confirms, persistent, mandatory,
    manual acks after the commit); prefetch None is the lab's default."""
    from engines.topology.model import BrokerNode, ClientNode, ServiceNode

    broker = BrokerNode(name="rabbit", urls=url) if isinstance(url, list) else BrokerNode(name="rabbit", url=url)
    service = ServiceNode(name="s", processing_ms=0, idempotent=True, ack="manual",
                          **({} if prefetch is None else {"prefetch": prefetch}))
    topo = _topology("bench-amqp-notification", [
        ClientNode(name="c", style="notification", transport="amqp", rate=0, count=n, payload_bytes=PAYLOAD,
                   confirms=True, persistent=True, mandatory=True), broker, service],
        [{"from": "c", "to": "rabbit", "channel": f"bench-lab-{uuid.uuid4().hex[:8]}"},
         {"from": "rabbit", "to": "s", "durable": True, "queue_type": "quorum" if quorum else "classic"}])
    summary, rate = _run(topo, "s")
    check = _exact(summary["total"], n, "confirms")
    if rate is None:
        raise NotExact("too short to measure: raise the message count")
    return rate, check


def default_prefetch() -> int:
    from engines.topology.model import ServiceNode

    return int(ServiceNode(name="s").prefetch)
