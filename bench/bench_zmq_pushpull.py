"""PUSH/PULL throughput: raw pyzmq between two processes vs the lab's PUSH/PULL link, same run.

    PYTHONPATH=. python bench/bench_zmq_pushpull.py [--messages N] [--repeat R] [--messages-per-frame K]

Raw: one process PUSHes N 256-byte messages, K to a frame like the lab side
(one by default, as the lab's default), another PULLs them; the rate is N
over the receiver's first-to-last time. Lab: a topology with a client
(notification over zmq, rate 0, 256-byte payload, messages_per_frame K) and
an idempotent service;
both are real node processes, the client records every ID and the service
commits every message to SQLite (business row + PROCESSED_MESSAGES). Its rate
is N over the time between the service's first and last committed delivery
(telemetry, 10 samples a second). Absolute numbers drift with the machine:
read the ratio. Prints the medians of R alternating rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import raw_stream

PAYLOAD = 256


def raw_rate(n: int, per_frame: int = 1) -> float:
    """Messages per second, raw pyzmq PUSH -> PULL, 256-byte payloads, two processes, framed
    like the lab side it is compared with (bench/raw_stream.py)."""
    return raw_stream.pushpull(n, per_frame)


def lab_rate(n: int, per_frame: int = 128) -> tuple[float, dict]:
    """Messages per second through a lab PUSH/PULL link, counting and committing every one."""
    from engines.runtime import Supervisor
    from engines.topology.model import ClientNode, ServiceNode, Topology

    topo = Topology(
        name="bench-push-pull",
        nodes=[ClientNode(name="pusher", style="notification", transport="zmq", rate=0, count=n,
                          payload_bytes=PAYLOAD, messages_per_frame=per_frame),
               ServiceNode(name="puller", processing_ms=0, idempotent=True)],
        links=[{"from": "pusher", "to": "puller"}],
    )
    with tempfile.TemporaryDirectory() as tmp:
        with Supervisor(topo, Path(tmp) / "run") as sup:
            summary = sup.run()
            t, delivered = sup.metrics.series("puller", "delivered")
        started = np.flatnonzero(delivered > 0)
        finished = np.flatnonzero(delivered >= n)
        if not len(started) or not len(finished):
            raise RuntimeError(f"the lab did not deliver every message: {summary['total']}")
        # between the first sample that saw deliveries and the first that saw them all
        # (samples are 0.1 s apart, so this errs on the slow side by at most one interval)
        a, b = started[0], finished[0]
        return (delivered[b] - delivered[a]) / (t[b] - t[a]), summary["total"]


def hot_path_cost(n: int = 200_000, trace: bool = False) -> tuple[float, float]:
    """The lab's own Python work per message, in-process, in microseconds: (client, service).

    Client: pack a batch frame and record the sends. Service: decode the
    frame and run the handler's transaction (PROCESSED_MESSAGES + business
    row, committed) and its counters.
    """
    import logging

    from engines.nodes.handler import Handler
    from engines.nodes.records import ClientRecorder
    from engines.nodes.stats import ServiceStats
    from engines.nodes.store import Store
    from engines.transports import wire
    from engines.transports._zmq import Batch
    from engines.transports.base import ServiceConfig

    payload = b"x" * PAYLOAD
    with tempfile.TemporaryDirectory() as tmp:
        recorder = ClientRecorder(Path(tmp) / "records.bin", n + 128)
        from engines.nodes import tracefile

        if trace:
            recorder.attach_trace(tracefile.TraceWriter(Path(tmp) / "client.trace", 4 * n,
                                                        tracefile.ANOMALIES), 0)
        start = time.perf_counter()
        frames = []
        for first in range(0, n, 128):
            frames.append(wire.pack_batch(wire.NOTIFY, 0, first, 128, time.monotonic_ns(), payload))
            recorder.sent_range(first, 128)
        client = (time.perf_counter() - start) / n * 1e6
        recorder.close()
        store = Store(Path(tmp) / "service.db", {"pusher": 0})
        handler = Handler(ServiceConfig(name="puller"), store, ServiceStats(1), Path(tmp) / "crashed",
                          logging.getLogger("bench"))
        if trace:
            handler.trace = tracefile.TraceWriter(Path(tmp) / "service.trace", 4 * n, tracefile.ANOMALIES)
        start = time.perf_counter()
        for i in range(0, len(frames), 4):
            batch = Batch()
            for frame in frames[i:i + 4]:
                batch.add(frame)
            handler.handle_batch(batch.items)
        service = (time.perf_counter() - start) / n * 1e6
        store.close()
    return client, service


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--messages-per-frame", type=int, default=1,
                        help="the lab client's messages_per_frame (its default, 1) and the raw sender's framing")
    parser.add_argument("--trace-cost", action="store_true",
                        help="only measure what message tracing costs (LAB_TRACE off vs anomalies)")
    args = parser.parse_args(argv)
    if args.trace_cost:
        import trace_cost

        if args.repeat > 0:
            trace_cost.report("lab PUSH/PULL link, rate 0",
                              trace_cost.measure(lambda: lab_rate(args.messages)[0], args.repeat), args.repeat)
        runs: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        for _ in range(5):  # alternating; the minimum is the figure least disturbed by other load
            for traced in (False, True):
                runs[traced].append(hot_path_cost(trace=traced))
        plain = tuple(min(r[i] for r in runs[False]) for i in (0, 1))
        traced_cost = tuple(min(r[i] for r in runs[True]) for i in (0, 1))
        print(f"in-process Python work per message (min of 5): client {plain[0]:.2f} -> {traced_cost[0]:.2f} us, "
              f"service {plain[1]:.2f} -> {traced_cost[1]:.2f} us with anomaly tracing")
        return 0
    raws, labs, ratios = [], [], []
    for i in range(args.repeat):  # like for like: raw framed as the lab is (issue 19)
        raws.append(raw_rate(args.messages, args.messages_per_frame))
        rate, total = lab_rate(args.messages, args.messages_per_frame)
        labs.append(rate)
        ratios.append(rate / raws[-1])
        assert total["processed"] == total["sent"] == args.messages and total["lost"] == 0, total
        print(f"round {i + 1}: raw {raws[-1]:,.0f} msg/s, lab {labs[-1]:,.0f} msg/s, ratio "
              f"{ratios[-1]:.2f} (processed {total['processed']:,}, lost {total['lost']})", flush=True)
    raw, lab, ratio = statistics.median(raws), statistics.median(labs), statistics.median(ratios)
    client, service = hot_path_cost()
    print(f"raw pyzmq PUSH->PULL, {PAYLOAD} B, {args.messages_per_frame} message(s) a frame: {raw:,.0f} msg/s "
          f"(median of {args.repeat})")
    print(f"lab PUSH/PULL link, {PAYLOAD} B, rate 0, messages_per_frame {args.messages_per_frame}: {lab:,.0f} msg/s (every ID recorded, every "
          "message committed to SQLite)")
    print(f"ratio lab/raw: {ratio:.2f} (median of the rounds' ratios)")
    print(f"lab overhead per message on the wall clock (1/lab - 1/raw): {1e6 / lab - 1e6 / raw:.2f} us")
    print(f"lab's own Python work per message: client {client:.2f} us, service {service:.2f} us "
          "(in-process; with messages_per_frame 128 the lab packs that many a frame, which is how it pays for it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
