"""Scale: topologies of 10, 50 and 100 ZeroMQ nodes: time to all-ready, memory per node, idle CPU.

    PYTHONPATH=. python bench/scale.py [--sizes 10 50 100] [--idle 10]

Each topology is N/2 client -> service pairs over ZeroMQ, the styles in turn
(notification PUSH/PULL, async request/response DEALER/ROUTER, request/response
REQ with Lazy Pirate, publish/subscribe), every client sending 1 message a
second: a topology that sits there, as one does in the GUI while a user looks.
For each size it reports:

- time to all-ready: from `Supervisor.start()` until every node reported ready
  (services first, each client as soon as its service is ready), the per-node
  cost (that time over N, and each node's own CPU time to get ready: its
  interpreter, imports and set-up), and the readiness timeline (when 10 %, 25 %,
  50 %, 75 %, 90 % and all of the nodes were ready). Goal (issue 19): 100 nodes
  all ready in under 10 s;
- memory per node: RSS and USS (memory only that process holds) of the node
  processes, and the supervisor's own RSS;
- the supervisor's own CPU while the run is idle: this process's user+system
  time over `--idle` seconds (its telemetry, monitor and run loop threads),
  as a percentage of one core; the target is under 20 %.

The supervisor runs in this process, so its CPU is this process's CPU. Run on
an otherwise quiet machine; figures drift with load, the growth does not much.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from engines.runtime import Supervisor
from engines.topology.model import ClientNode, ServiceNode, Topology

GOAL_S = 10.0  # 100 zmq nodes all ready (issue 19)
STYLES = ("notification", "async-request-response", "request-response", "publish-subscribe")


def topology(n: int, rate: float = 1.0) -> Topology:
    """n nodes: n/2 client -> service pairs over zmq, styles in turn."""
    nodes: list[Any] = []
    links = []
    for i in range(n // 2):
        style = STYLES[i % len(STYLES)]
        nodes += [ClientNode(name=f"c{i:03d}", style=style, transport="zmq", rate=rate, count=None,
                             duration_s=3600, timeout_ms=10_000, retries=100),
                  ServiceNode(name=f"s{i:03d}")]
        links.append({"from": f"c{i:03d}", "to": f"s{i:03d}"})
    return Topology(name=f"scale-{n}", nodes=nodes, links=links)


def node_processes(sup: Supervisor) -> list[psutil.Process]:
    out = []
    for proc in sup.table.nodes.values():
        if proc.pid is not None:
            try:
                out.append(psutil.Process(proc.pid))
            except psutil.NoSuchProcess:
                continue
    return out


def measure(n: int, idle_s: float, root: Path) -> dict[str, float]:
    topo = topology(n)
    me = psutil.Process()
    with Supervisor(topo, root / f"run-{n}", ready_timeout_s=300) as sup:
        t0 = time.monotonic()
        started = sup.start_async()  # as the GUI does; this thread watches the nodes get ready
        ready_at: dict[str, float] = {}
        while len(ready_at) < n:
            if started.done() and started.exception() is not None:
                raise RuntimeError(f"the run did not start: {started.exception()}")
            now, states = time.monotonic() - t0, sup.states()
            if any(s in ("crashed", "exited", "killed") for s in states.values()):
                raise RuntimeError(f"a node ended during the start: {states}")
            for name, state in states.items():
                if state in ("ready", "done") and name not in ready_at:
                    ready_at[name] = now
            time.sleep(0.01)
        started.result()
        ready_s = max(ready_at.values())
        first_client = sup.started_at - t0 if sup.started_at is not None else float("nan")
        cpu_ready = [sum(p.cpu_times()[:2]) for p in node_processes(sup)]  # each node's own start-up
        time.sleep(3.0)  # settle: imports done, first telemetry in
        procs = node_processes(sup)
        rss = [p.memory_info().rss for p in procs]
        uss = [p.memory_full_info().uss for p in procs]
        before, wall = me.cpu_times(), time.monotonic()
        sup_run_idle(sup, idle_s)
        after, wall = me.cpu_times(), time.monotonic() - wall
        cpu = (after.user - before.user + after.system - before.system) / wall * 100
        children = sum(p.cpu_percent(None) for p in procs)  # primes; read after a short window
        time.sleep(1.0)
        children = sum(p.cpu_percent(None) for p in procs)
        sup_rss = me.memory_info().rss
        sup.finish()
    times = sorted(ready_at.values())
    timeline = {q: times[min(n - 1, max(0, round(q / 100 * n) - 1))] for q in (10, 25, 50, 75, 90, 100)}
    return {"nodes": n, "ready_s": ready_s, "ready_per_node_ms": ready_s / n * 1000,
            "node_cpu_ms": statistics.median(cpu_ready) * 1000, "first_client_s": first_client,
            "timeline": timeline,
            "rss_mb": statistics.mean(rss) / 2**20, "uss_mb": statistics.mean(uss) / 2**20,
            "sup_rss_mb": sup_rss / 2**20, "sup_cpu_pct": cpu, "nodes_cpu_pct": children}


def sup_run_idle(sup: Supervisor, seconds: float) -> None:
    """What a headless run does while nothing happens: its loop ticks, the threads work."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sup.sent_total()  # the run loop reads this every tick (the scenario player's clock)
        time.sleep(0.1)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measurement")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="lab-scale-") as tmp:
        for n in args.sizes:
            row = measure(n, args.idle, Path(tmp))
            rows.append(row)
            print(f"{n:4d} nodes: all ready in {row['ready_s']:6.2f} s ({row['ready_per_node_ms']:5.0f} ms/node), "
                  f"RSS {row['rss_mb']:5.1f} MB/node (USS {row['uss_mb']:4.1f}), supervisor RSS "
                  f"{row['sup_rss_mb']:5.1f} MB, supervisor CPU idle {row['sup_cpu_pct']:4.1f} % of a core, "
                  f"all nodes together {row['nodes_cpu_pct']:5.1f} %", flush=True)
            print(f"      per node: {row['ready_per_node_ms']:.0f} ms of wall clock, median "
                  f"{row['node_cpu_ms']:.0f} ms of its own CPU to get ready; first client started at "
                  f"{row['first_client_s']:.2f} s; ready: " + ", ".join(
                      f"{q} % at {t:.2f} s" for q, t in row["timeline"].items()), flush=True)
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        k = last["nodes"] / first["nodes"]
        print(f"growth {first['nodes']} -> {last['nodes']} nodes (x{k:g}): ready time "
              f"x{last['ready_s'] / first['ready_s']:.1f}, RSS per node x{last['rss_mb'] / first['rss_mb']:.2f}, "
              f"supervisor RSS x{last['sup_rss_mb'] / first['sup_rss_mb']:.2f}, "
              f"supervisor idle CPU x{last['sup_cpu_pct'] / max(first['sup_cpu_pct'], 0.01):.1f}")
    for row in rows:
        if row["nodes"] >= 100:
            goal = GOAL_S * row["nodes"] / 100
            print(f"{row['nodes']} nodes all ready in {row['ready_s']:.2f} s (goal < {goal:g} s, "
                  f"load average {os.getloadavg()[0]:.1f}): {'OK' if row['ready_s'] < goal else 'OVER'}")
    worst = max(r["sup_cpu_pct"] for r in rows)
    print(f"supervisor idle CPU at most {worst:.1f} % of a core (target < 20 %): "
          f"{'OK' if worst < 20 else 'OVER'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
