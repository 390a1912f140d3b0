"""A three-member RabbitMQ cluster: time to ready, and the lab's amqp link on a quorum queue vs raw pika.

    PYTHONPATH=. python bench/bench_amqp_cluster.py [--messages N] [--repeat R]

Boots one managed cluster (engines.brokers.ClusterBroker: member 1 alone,
then the others join it) and reports the time until every member accepts
AMQP. Then, on that cluster, alternating rounds of:

Raw: a publisher process on pika's SelectConnection with a pipelined window
of 1000 unconfirmed publishes to a quorum queue, persistent, mandatory, and a
consumer process acking every 100 deliveries (the fastest pika allows).
Lab: a client node and a service node on the same cluster given as an
external cluster (its members' URLs), quorum queue, confirms, every ID and
confirm recorded, every message committed to SQLite before its batched ack.

Both rates are end to end at the consumer (N over first to last delivery).
Absolute numbers drift with the machine: read the ratio (goal: >= 0.7).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import raw_pika
from raw_pika import WINDOW

PAYLOAD = 256
PREFETCH = 1000


def lab_rate(urls: list[str], n: int) -> tuple[float, dict[str, Any]]:
    from engines.runtime import Supervisor
    from engines.topology.model import BrokerNode, ClientNode, ServiceNode, Topology

    channel = f"bench-lab-{uuid.uuid4().hex[:8]}"
    topo = Topology(
        name="bench-amqp-cluster",
        nodes=[ClientNode(name="producer", style="notification", transport="amqp", rate=0, count=n,
                          payload_bytes=PAYLOAD, confirms=True, persistent=True, mandatory=True),
               BrokerNode(name="rabbit", urls=urls),
               ServiceNode(name="consumer", processing_ms=0, idempotent=True, ack="manual",
                           prefetch=PREFETCH)],
        links=[{"from": "producer", "to": "rabbit", "channel": channel},
               {"from": "rabbit", "to": "consumer", "durable": True, "queue_type": "quorum"}],
    )
    with tempfile.TemporaryDirectory() as tmp:
        with Supervisor(topo, Path(tmp) / "run") as sup:
            summary = sup.run()
            t, delivered = sup.metrics.series("consumer", "delivered")
        started = np.flatnonzero(delivered > 0)
        finished = np.flatnonzero(delivered >= n)
        if not len(started) or not len(finished):
            raise RuntimeError(f"the lab did not deliver every message: {summary['total']}")
        a, b = started[0], finished[0]
        return (delivered[b] - delivered[a]) / (t[b] - t[a]), summary["total"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    from engines.brokers import ClusterBroker, rabbitmq_available

    problem = rabbitmq_available()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    raws, labs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        cluster = ClusterBroker("bench", Path(tmp), 3)
        try:
            began = time.monotonic()
            cluster.start(timeout=180)
            print(f"three-member cluster ready in {time.monotonic() - began:.1f} s", flush=True)
            for i in range(args.repeat):
                raws.append(raw_pika.notification_rate(cluster.urls[0], args.messages, PREFETCH, raw_pika.QUORUM))
                rate, total = lab_rate(cluster.urls, args.messages)
                labs.append(rate)
                assert total["processed"] == total["sent"] == total["confirms"] == args.messages, total
                assert total["lost"] == 0 and total["duplicates_processed"] == 0, total
                print(f"round {i + 1}: raw {raws[-1]:,.0f} msg/s, lab {labs[-1]:,.0f} msg/s", flush=True)
        finally:
            cluster.close()
    raw, lab = statistics.median(raws), statistics.median(labs)
    print(f"raw pika on a quorum queue, confirms window {WINDOW}: {raw:,.0f} msg/s "
          f"(median of {args.repeat})")
    print(f"lab amqp link on the same cluster, same guarantees: {lab:,.0f} msg/s")
    print(f"ratio lab/raw: {lab / raw:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
