"""Soak: a 20-node mixed topology for 10 minutes; does any process's memory grow?

    PYTHONPATH=. python bench/soak.py [--minutes 10] [--every 5] [--csv soak.csv]

The topology mixes every brokerless style over ZeroMQ and HTTP and, where
RabbitMQ is installed, a managed broker with a work queue and RPC over AMQP
(20 nodes either way). Clients send for the whole run at steady rates. Every
`--every` seconds the RSS of every process is sampled: each node's current
life, the broker (beam.smp and its helpers, summed), and the supervisor (this
process: the headless runner's loop, telemetry and monitor threads). After a
warm-up (the first fifth of the run, at most 2 minutes) the growth of each
process is (mean of its last three samples - mean of its first three) over
the latter; the target is under 10 % for every one. The run's counters are
printed at the end (lost, duplicates), so a soak that drops messages shows.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import psutil

from engines.brokers import rabbitmq_available
from engines.runtime import Supervisor
from engines.topology import topofile

BROKERLESS = """
  - {name: push, kind: client, style: notification, transport: zmq, rate: 150}
  - {name: dealer, kind: client, style: async-request-response, transport: zmq, rate: 150}
  - {name: req, kind: client, style: request-response, transport: zmq, rate: 60}
  - {name: pub, kind: client, style: publish-subscribe, transport: zmq, rate: 60}
  - {name: gather, kind: client, style: publish-async-responses, transport: zmq, rate: 20}
  - {name: web, kind: client, style: request-response, transport: http, rate: 40}
  - {name: hook, kind: client, style: notification, transport: http, rate: 40}
  - {name: pull, kind: service}
  - {name: router, kind: service}
  - {name: sub-a, kind: service}
  - {name: sub-b, kind: service}
  - {name: collect-a, kind: service}
  - {name: collect-b, kind: service}
  - {name: web-a, kind: service}
  - {name: hook-a, kind: service}
"""
BROKERLESS_LINKS = """
  - {from: push, to: pull}
  - {from: dealer, to: router}
  - {from: req, to: router}
  - {from: pub, to: sub-a}
  - {from: pub, to: sub-b}
  - {from: gather, to: collect-a}
  - {from: gather, to: collect-b}
  - {from: web, to: web-a}
  - {from: hook, to: hook-a}
"""
WITH_BROKER = """
  - {name: orders, kind: client, style: notification, transport: amqp, rate: 100}
  - {name: quotes, kind: client, style: request-response, transport: amqp, rate: 40}
  - {name: rabbit, kind: broker}
  - {name: fulfil, kind: service}
  - {name: pricing, kind: service}
""", """
  - {from: orders, to: rabbit, channel: orders}
  - {from: rabbit, to: fulfil, channel: orders}
  - {from: quotes, to: rabbit, channel: quotes}
  - {from: rabbit, to: pricing, channel: quotes}
"""
WITHOUT_BROKER = """
  - {name: push2, kind: client, style: notification, transport: zmq, rate: 100}
  - {name: asker, kind: client, style: async-request-response, transport: http, rate: 40}
  - {name: pull2, kind: service}
  - {name: asked, kind: service}
  - {name: sub-c, kind: service}
""", """
  - {from: push2, to: pull2}
  - {from: asker, to: asked}
  - {from: pub, to: sub-c}
"""


def topology_text(brokered: bool, seconds: float) -> str:
    nodes, links = WITH_BROKER if brokered else WITHOUT_BROKER
    text = f"version: 1\nname: soak\nnodes:{BROKERLESS}{nodes}links:{BROKERLESS_LINKS}{links}"
    # every client sends for the whole run (count unset, duration set)
    return text.replace("kind: client,", f"kind: client, count: null, duration_s: {seconds:g}, timeout_ms: 5000,")


def _rss(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


class Sampler:
    """RSS of every process of the run, every `every` seconds (called from the run loop's tick)."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.next = 0.0
        self.rows: list[dict[str, Any]] = []

    def __call__(self, sup: Supervisor) -> None:
        if sup.started_at is None or sup.elapsed() < self.next:
            return
        self.next = sup.elapsed() + self.every
        row: dict[str, Any] = {"t": round(sup.elapsed(), 1), "supervisor": psutil.Process().memory_info().rss}
        for name, proc in sup.table.nodes.items():
            if name in sup.brokers:
                row[name] = _rss(sup.brokers[name].pids())
            elif proc.pid is not None and proc.alive:
                row[name] = _rss([proc.pid])
        self.rows.append(row)


def growth(rows: list[dict[str, Any]], warmup_s: float) -> dict[str, tuple[float, float, float]]:
    """Per process: (MB after warm-up, MB at the end, growth in percent)."""
    after = [r for r in rows if r["t"] >= warmup_s]
    out = {}
    for name in sorted({k for r in rows for k in r} - {"t"}):
        series = [r[name] for r in after if r.get(name)]
        if len(series) < 6:
            continue
        start, end = statistics.mean(series[:3]), statistics.mean(series[-3:])
        out[name] = (start / 2**20, end / 2**20, (end - start) / start * 100)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--csv", type=Path, help="write every sample here")
    parser.add_argument("--no-broker", action="store_true", help="brokerless even if RabbitMQ is here")
    args = parser.parse_args(argv)
    seconds = args.minutes * 60
    brokered = not args.no_broker and rabbitmq_available() is None
    topology = topofile.loads(topology_text(brokered, seconds + 60)).topology
    sampler = Sampler(args.every)
    warmup = min(120.0, seconds / 5)
    print(f"soak: {len(topology.nodes)} nodes ({'with' if brokered else 'without'} RabbitMQ) for "
          f"{args.minutes:g} min, RSS every {args.every:g} s, warm-up {warmup:g} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="lab-soak-") as tmp, \
            Supervisor(topology, Path(tmp) / "run", ready_timeout_s=120) as sup:
        summary = sup.run(duration=seconds, on_tick=sampler)
    if args.csv:
        names = sorted({k for r in sampler.rows for k in r} - {"t"})
        with open(args.csv, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["t_s", *names])
            for r in sampler.rows:
                writer.writerow([r["t"], *(r.get(n, "") for n in names)])
    table = growth(sampler.rows, warmup)
    worst = max(table.items(), key=lambda kv: kv[1][2])
    for name, (start, end, pct) in sorted(table.items(), key=lambda kv: -kv[1][2]):
        print(f"  {name:12s} {start:7.1f} MB -> {end:7.1f} MB  {pct:+6.1f} %")
    nodes = [v for k, v in table.items() if k != "supervisor"]
    total = summary["total"]
    print(f"supervisor {table['supervisor'][2]:+.1f} %; nodes: median {statistics.median(v[2] for v in nodes):+.1f} %,"
          f" worst {worst[0]} {worst[1][2]:+.1f} % (target < 10 % each): "
          f"{'OK' if worst[1][2] < 10 else 'OVER'}")
    print(f"messages: sent {total['sent']}, processed {total['processed']}, lost {total['lost']}, "
          f"in doubt {total['in_doubt']}, duplicates processed {total['duplicates_processed']}, "
          f"{total['throughput']:g} processed/s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
