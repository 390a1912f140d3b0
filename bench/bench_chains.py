"""Service chains (issue 12): a 3-hop zmq notification chain and a 3-hop http request chain, vs raw.

    PYTHONPATH=. python bench/bench_chains.py [--messages N] [--requests M] [--repeat R]

zmq: client -> s0 -> s1 -> s2, notification over PUSH/PULL at every hop (the
services send on with the client's own PUSH driver, fed after each commit).
Every hop is real: each service commits every message (business row +
PROCESSED_MESSAGES) before it sends the event on, and the ledger checks that
every ID reached s2. The rate is end to end, the deliveries committed at s2
between two telemetry samples (10 a second) taken while they went on
(`lab_paths.steady_rate`), against raw pyzmq PUSH -> PULL between two
processes (bench_zmq_pushpull's `raw_rate`) in the same run.

http: client -> a -> b -> c, request-response, every service calling the next
inside its handling (keep-alive connections, one SQLite commit per hop). The
client's median round trip against one raw stdlib keep-alive round trip
(http.client -> ThreadingHTTPServer, TCP_NODELAY, 256-byte body) in the same run.
Absolute numbers drift with the machine: read the ratios. Medians of R rounds.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import socket
import statistics
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench_zmq_pushpull import raw_rate
from lab_paths import steady_rate

PAYLOAD = 256


def chain(transport: str, style: str, n: int, count: int, rate: float) -> Any:
    from engines.topology.model import ClientNode, Link, ServiceNode, Topology

    names = [f"s{i}" for i in range(n)]
    nodes: list[Any] = [ClientNode(name="c", style=style, transport=transport, rate=rate, count=count,
                                   payload_bytes=PAYLOAD, timeout_ms=5000, retries=0, in_flight=1)]
    nodes += [ServiceNode(name=s) for s in names]
    links = [Link.model_validate({"from": "c", "to": names[0]})]
    extra = {"transport": transport, "style": style} | ({"timeout_ms": 5000} if style != "notification" else {})
    links += [Link.model_validate({"from": a, "to": b, **extra}) for a, b in zip(names, names[1:], strict=False)]
    return Topology(name=f"bench-chain-{transport}", nodes=nodes, links=links)


def zmq_chain_rate(n: int) -> tuple[float, dict[str, Any]]:
    from engines.runtime import Supervisor

    with tempfile.TemporaryDirectory() as tmp:
        with Supervisor(chain("zmq", "notification", 3, n, 0), Path(tmp) / "run") as sup:
            summary = sup.run()
            t, delivered = sup.metrics.series("s2", "delivered")
    rate = steady_rate(t, delivered, n)
    if rate is None:
        raise RuntimeError(f"the chain did not deliver every message: {summary['chains']}")
    return rate, summary


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body[:22])))
        self.end_headers()
        self.wfile.write(body[:22])

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def _server(ready: Any) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    ready.put(server.server_address[1])
    server.serve_forever()


def raw_http_p50(m: int) -> float:
    """Median ms of one stdlib keep-alive POST round trip to a server in another process."""
    import http.client

    spawn = mp.get_context("spawn")
    ready: Any = spawn.Queue()
    proc = spawn.Process(target=_server, args=(ready,), daemon=True)
    proc.start()
    try:
        port = ready.get(timeout=60)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        body, times = b"x" * (22 + PAYLOAD), []
        for _ in range(m):
            start = time.perf_counter()
            conn.request("POST", "/messages", body, {"Content-Type": "application/octet-stream"})
            conn.getresponse().read()
            times.append(time.perf_counter() - start)
        conn.close()
        return statistics.median(times) * 1000
    finally:
        proc.terminate()
        proc.join(timeout=10)


def http_chain_p50(m: int) -> tuple[float, dict[str, Any]]:
    from engines.runtime import Supervisor

    with tempfile.TemporaryDirectory() as tmp:
        with Supervisor(chain("http", "request-response", 3, m, 0), Path(tmp) / "run") as sup:
            summary = sup.run()
    return float(summary["nodes"]["c"]["p50_latency_ms"]), summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    zr, zl, zratio, hr, hl, hratio = [], [], [], [], [], []
    for i in range(args.repeat):
        zr.append(raw_rate(args.messages))
        rate, summary = zmq_chain_rate(args.messages)
        zl.append(rate)
        zratio.append(rate / zr[-1])
        stages = summary["chains"]["c"]["stages"]
        assert summary["total"]["lost"] == 0 and all(s["reached"] == args.messages for s in stages), stages
        hr.append(raw_http_p50(args.requests))
        p50, hsum = http_chain_p50(args.requests)
        hl.append(p50)
        hratio.append(p50 / hr[-1])
        assert hsum["chains"]["c"]["e2e_reached"] == args.requests, hsum["chains"]
        print(f"round {i + 1}: zmq raw {zr[-1]:,.0f} msg/s, 3-hop chain {rate:,.0f} msg/s "
              f"(ratio {zratio[-1]:.2f}); http raw p50 {hr[-1]:.3f} ms, 3-hop chain p50 {p50:.3f} ms "
              f"(ratio {hratio[-1]:.2f})", flush=True)
    print(f"zmq: raw pyzmq PUSH->PULL {statistics.median(zr):,.0f} msg/s; 3-hop notification chain, "
          f"every hop committed and counted: {statistics.median(zl):,.0f} msg/s end to end; "
          f"ratio {statistics.median(zratio):.2f} (median of {args.repeat} rounds)")
    print(f"http: raw stdlib keep-alive round trip p50 {statistics.median(hr):.3f} ms; 3-hop "
          f"request-response chain p50 {statistics.median(hl):.3f} ms; ratio {statistics.median(hratio):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
