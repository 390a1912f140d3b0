"""Notification over RabbitMQ: raw pika vs the lab's amqp link, same guarantees, same run.

    PYTHONPATH=. python bench/bench_amqp_notification.py [--messages N] [--repeat R]

One managed RabbitMQ node serves both. Guarantees on both sides: publisher
confirms, persistent messages (delivery_mode 2), a durable classic queue,
mandatory publishing, manual acks after the work, prefetch 1000 (`--prefetch`;
`--prefetch default` measures the lab's default, 100, for both sides).

Raw: a publisher process on pika's async adapter (SelectConnection) with a
pipelined window of 1000 unconfirmed publishes, and a consumer process that
acks every 100 deliveries with multiple=True: the fastest way pika allows.
Lab: a client node (notification, amqp, rate 0) and a service node; the
client records every ID and every confirm, the service commits every message
to SQLite (business row + PROCESSED_MESSAGES) before its batched ack. Both
rates are end to end, at the consumer: N over the time from its first to its
last delivery (the lab's from its telemetry, 10 samples a second). Absolute
numbers drift with the machine: read the ratio. Medians of R alternating rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

import numpy as np
import raw_pika
from raw_pika import ACK_EVERY, WINDOW

PAYLOAD = 256
PREFETCH = 1000


def lab_rate(url: str, n: int, prefetch: int = PREFETCH) -> tuple[float, dict]:
    """Messages per second through a lab notification link over the same broker."""
    from engines.runtime import Supervisor
    from engines.topology.model import BrokerNode, ClientNode, ServiceNode, Topology

    channel = f"bench-lab-{uuid.uuid4().hex[:8]}"
    topo = Topology(
        name="bench-amqp-notification",
        nodes=[ClientNode(name="producer", style="notification", transport="amqp", rate=0, count=n,
                          payload_bytes=PAYLOAD, confirms=True, persistent=True, mandatory=True),
               BrokerNode(name="rabbit", url=url),
               ServiceNode(name="consumer", processing_ms=0, idempotent=True, ack="manual",
                           prefetch=prefetch)],
        links=[{"from": "producer", "to": "rabbit", "channel": channel},
               {"from": "rabbit", "to": "consumer", "durable": True, "queue_type": "classic"}],
    )
    with tempfile.TemporaryDirectory() as tmp:
        with Supervisor(topo, Path(tmp) / "run") as sup:
            summary = sup.run()
            t, delivered = sup.metrics.series("consumer", "delivered")
        started = np.flatnonzero(delivered > 0)
        finished = np.flatnonzero(delivered >= n)
        if not len(started) or not len(finished):
            raise RuntimeError(f"the lab did not deliver every message: {summary['total']}")
        a, b = started[0], finished[0]  # errs on the slow side by at most one 0.1 s interval
        return (delivered[b] - delivered[a]) / (t[b] - t[a]), summary["total"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=60_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--trace-cost", action="store_true",
                        help="only measure what message tracing costs (LAB_TRACE off vs anomalies)")
    parser.add_argument("--prefetch", default=str(PREFETCH),
                        help="consumer prefetch on both sides, or 'default' for the lab's default")
    args = parser.parse_args(argv)
    if args.prefetch == "default":
        from engines.topology.model import ServiceNode

        prefetch = int(ServiceNode(name="s").prefetch)
    else:
        prefetch = int(args.prefetch)
    from engines.brokers import ManagedBroker, rabbitmq_available

    problem = rabbitmq_available()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    raws, labs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        broker = ManagedBroker("bench", Path(tmp))
        try:
            broker.start()
            if args.trace_cost:
                import trace_cost

                trace_cost.report("lab amqp notification link, rate 0", trace_cost.measure(
                    lambda: lab_rate(broker.url, args.messages)[0], args.repeat), args.repeat)
                return 0
            for i in range(args.repeat):
                raws.append(raw_pika.notification_rate(broker.url, args.messages, prefetch))
                rate, total = lab_rate(broker.url, args.messages, prefetch)
                labs.append(rate)
                assert total["processed"] == total["sent"] == total["confirms"] == args.messages, total
                assert total["lost"] == 0 and total["duplicates_processed"] == 0, total
                print(f"round {i + 1}: raw {raws[-1]:,.0f} msg/s, lab {labs[-1]:,.0f} msg/s "
                      f"(confirmed {total['confirms']:,}, processed {total['processed']:,}, "
                      f"lost {total['lost']})", flush=True)
        finally:
            broker.close()
    raw, lab = statistics.median(raws), statistics.median(labs)
    print(f"raw pika, confirms window {WINDOW}, persistent, durable, prefetch {prefetch}, acks per "
          f"{min(ACK_EVERY, max(1, prefetch // 2))}: "
          f"{raw:,.0f} msg/s (median of {args.repeat})")
    print(f"lab amqp notification link, same guarantees: {lab:,.0f} msg/s (every ID and confirm "
          "recorded, every message committed to SQLite before its ack)")
    print(f"ratio lab/raw: {lab / raw:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
