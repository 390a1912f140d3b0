"""A raw 3-hop http request chain: the floor under the lab's 3-hop http chain row.

client -> a -> b -> c, stdlib only: each hop is a ThreadingHTTPServer in a
process (and session) of its own that commits the lab's transaction
(`raw_lockstep.Commit`) and, but for the last, POSTs the body on to the next
hop over one keep-alive connection (TCP_NODELAY) before it answers. The
lab's chain does the same work with its own framing, ledger and records, so
this is what plain Python code pays for three nested round trips with a
commit each.
"""

from __future__ import annotations

import http.client
import socket
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from raw_lockstep import BODY, REPLY, Commit, _finish, _spawn, _stats
from sessions import own_session

HOPS = 3


def _connect(port: int) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.connect()
    assert conn.sock is not None
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def _hop(next_port: int, ready: Any) -> None:
    """One hop: commit, then call the next hop (0: none) inside the handling, then answer."""
    own_session()
    with tempfile.TemporaryDirectory() as tmp:
        commit, lock, local = Commit(tmp), threading.Lock(), threading.local()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:  # the lab's handler commits under one lock too
                    commit()
                if next_port:
                    if not hasattr(local, "conn"):
                        local.conn = _connect(next_port)
                    local.conn.request("POST", "/messages", body, {"Content-Type": "application/octet-stream"})
                    local.conn.getresponse().read()
                self.send_response(200)
                self.send_header("Content-Length", str(len(REPLY)))
                self.end_headers()
                self.wfile.write(REPLY)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        ready.put(server.server_address[1])
        server.serve_forever(poll_interval=0.05)


def http_chain(m: int) -> dict[str, float]:
    """m lockstep POSTs through HOPS raw hops; p50 round trip (ms) as `raw_lockstep` measures it."""
    procs, port = [], 0
    try:
        for _ in range(HOPS):  # the last hop first: each one is told the port of the next
            proc, port = _spawn(_hop, port)
            procs.append(proc)
        conn, times, clock = _connect(port), [], time.perf_counter
        try:
            for _ in range(m):
                start = clock()
                conn.request("POST", "/messages", BODY, {"Content-Type": "application/octet-stream"})
                conn.getresponse().read()
                times.append(clock() - start)
        finally:
            conn.close()
        return _stats(times)
    finally:
        for proc in procs:
            proc.terminate()
            _finish(proc)


def main() -> None:
    """PYTHONPATH=.:bench python bench/raw_chain.py [rounds]: the raw chain against one raw round trip."""
    import sys

    from raw_lockstep import http_keepalive

    for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 3):
        one = http_keepalive(2000, False)["p50_ms"]
        chain = http_chain(2000)["p50_ms"]
        print(f"round {i + 1}: one raw keep-alive round trip {one:.3f} ms, raw {HOPS}-hop chain with a commit "
              f"a hop {chain:.3f} ms: {chain / one:.2f} x", flush=True)


if __name__ == "__main__":
    main()
