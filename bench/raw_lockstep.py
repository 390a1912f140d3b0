"""Raw lockstep baselines: one request at a time, a server in another process, with and without
the lab's commit.

Each baseline is the plainest fast code the library allows: pyzmq REQ -> REP,
stdlib http.client -> ThreadingHTTPServer (keep-alive, TCP_NODELAY). The
"commit" servers do what a lab service does per request before it replies:
one SQLite transaction (WAL, synchronous=OFF, the lab's schema from
engines.nodes.store) that inserts the PROCESSED_MESSAGES row and the business
row, committed before the reply is sent. So "lab / raw with commit" is what
the lab's own machinery costs, and "lab / bare raw" adds the commit.

Every server is a spawned process that exits when its client says so (and is
killed if it does not): nothing outlives a round.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import socket
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sessions import own_session

PAYLOAD = 256
HEADER = 22  # the lab's wire header (engines.transports.wire)
BODY = b"x" * (HEADER + PAYLOAD)
REPLY = b"r" * (HEADER + 2)
STOP = b"stop"


class Commit:
    """The lab service's per-request transaction, written with plain sqlite3."""

    def __init__(self, directory: str) -> None:
        from engines.nodes.store import SCHEMA

        self.db = sqlite3.connect(str(Path(directory) / "service.db"), isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(SCHEMA)
        self.next_id = 0

    def __call__(self) -> None:
        db, mid = self.db, self.next_id
        self.next_id += 1
        db.execute("BEGIN")
        db.execute("INSERT INTO processed_messages (message_id) VALUES (?)", (mid,))
        db.execute("INSERT INTO authorisations (message_id, attempt, redelivered) VALUES (?, 0, 0)", (mid,))
        db.execute("COMMIT")

    def many(self, count: int) -> None:
        """The same two rows for each of `count` new messages, in one transaction, written as the
        lab's service writes a run of first attempts: one statement a table over a JSON array of
        the IDs (engines.nodes.store)."""
        db, first = self.db, self.next_id
        self.next_id += count
        ids = "[" + ",".join(map(str, range(first, first + count))) + "]"
        db.execute("BEGIN")
        db.execute("INSERT INTO processed_messages (message_id) SELECT value FROM json_each(?)", (ids,))
        db.execute("INSERT INTO authorisations (message_id, attempt, redelivered) "
                   "SELECT value, 0, 0 FROM json_each(?)", (ids,))
        db.execute("COMMIT")


def _no_commit() -> None:
    return None


def _zmq_rep(commit: bool, ready: Any) -> None:
    import zmq

    own_session()

    with tempfile.TemporaryDirectory() as tmp:
        work: Callable[[], None] = Commit(tmp) if commit else _no_commit
        ctx = zmq.Context()
        sock = ctx.socket(zmq.REP)
        sock.setsockopt(zmq.LINGER, 0)
        port = sock.bind_to_random_port("tcp://127.0.0.1")
        ready.put(port)
        while True:
            body = sock.recv()
            if body == STOP:
                break
            work()
            sock.send(REPLY)
        sock.close()
        ctx.term()


def _spawn(target: Callable[..., None], *args: Any) -> tuple[Any, int]:
    spawn = mp.get_context("spawn")
    ready: Any = spawn.Queue()
    proc = spawn.Process(target=target, args=(*args, ready), daemon=True)
    proc.start()
    deadline = time.monotonic() + 60
    while True:  # a server that died before it was ready is an error now, not in a minute
        try:
            return proc, int(ready.get(timeout=0.5))
        except queue.Empty:
            if not proc.is_alive() or time.monotonic() > deadline:
                _finish(proc)
                raise RuntimeError(f"the raw server {target.__name__} did not start") from None


def _finish(proc: Any) -> None:
    proc.join(timeout=5)
    if proc.is_alive():
        proc.kill()
        proc.join(timeout=5)


def _stats(times: list[float]) -> dict[str, float]:
    """p50 round trip in ms and the lockstep rate (requests a second), the first 5 % dropped
    as warm-up."""
    kept = times[len(times) // 20:]
    return {"p50_ms": statistics.median(kept) * 1e3, "rate": len(kept) / sum(kept)}


def zmq_reqrep(m: int, commit: bool) -> dict[str, float]:
    """m lockstep round trips, pyzmq REQ -> REP in another process."""
    import zmq

    proc, port = _spawn(_zmq_rep, commit)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://127.0.0.1:{port}")
    times = []
    clock, send, recv = time.perf_counter, sock.send, sock.recv
    try:
        for _ in range(m):
            start = clock()
            send(BODY)
            recv()
            times.append(clock() - start)
        send(STOP)
    finally:
        sock.close()
        ctx.term()
        _finish(proc)
    return _stats(times)


def _http_server(commit: bool, ready: Any) -> None:
    own_session()
    with tempfile.TemporaryDirectory() as tmp:
        work: Callable[[], None] = Commit(tmp) if commit else _no_commit
        lock = threading.Lock()

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if body == STOP:
                    self.server.shutdown_request(self.request)
                    threading.Thread(target=self.server.shutdown).start()
                    return
                with lock:  # the lab's handler commits under one lock too
                    work()
                self.answer()

        serve(Handler, ready)


class QuietHandler(BaseHTTPRequestHandler):
    """Keep-alive, Nagle off, no log lines; `answer` sends the short reply."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def answer(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(REPLY)))
        self.end_headers()
        self.wfile.write(REPLY)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def serve(handler: type[BaseHTTPRequestHandler], ready: Any) -> None:
    """A ThreadingHTTPServer on a loopback port, told to `ready`, until it is shut down."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    ready.put(server.server_address[1])
    server.serve_forever(poll_interval=0.05)
    server.server_close()


def http_keepalive(m: int, commit: bool) -> dict[str, float]:
    """m lockstep POSTs on one keep-alive connection (TCP_NODELAY) to a server in another process."""
    import http.client

    proc, port = _spawn(_http_server, commit)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.connect()
    assert conn.sock is not None
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    headers = {"Content-Type": "application/octet-stream"}
    times = []
    clock = time.perf_counter
    try:
        for _ in range(m):
            start = clock()
            conn.request("POST", "/messages", BODY, headers)
            conn.getresponse().read()
            times.append(clock() - start)
        try:
            conn.request("POST", "/messages", STOP, headers)
        except OSError:
            pass
    finally:
        conn.close()
        _finish(proc)
    return _stats(times)



def _zmq_router(ready: Any) -> None:
    import zmq

    own_session()

    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    ready.put(sock.bind_to_random_port("tcp://127.0.0.1"))
    recv, send = sock.recv_multipart, sock.send_multipart
    while True:
        parts = recv()
        if parts[-1] == STOP:
            break
        send([*parts[:-1], REPLY])
    sock.close()
    ctx.term()


def zmq_dealer_rate(n: int, in_flight: int) -> float:
    """Requests a second, pyzmq DEALER ([empty delimiter, body], as the lab's) -> ROUTER in
    another process replying to each, `in_flight` outstanding at once."""
    import zmq

    proc, port = _spawn(_zmq_router)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://127.0.0.1:{port}")
    send, recv = sock.send_multipart, sock.recv_multipart
    try:
        start = time.perf_counter()
        sent = 0
        for _ in range(min(in_flight, n)):
            send([b"", BODY])
            sent += 1
        for _ in range(n):
            recv()
            if sent < n:
                send([b"", BODY])
                sent += 1
        rate = n / (time.perf_counter() - start)
        send([b"", STOP])
    finally:
        sock.close()
        ctx.term()
        _finish(proc)
    return rate
