"""Raw 3-hop chains: the floors under the lab's two chain rows.

zmq: client -> s0 -> s1 -> s2 over PUSH/PULL, one 278-byte message a frame.
Each hop takes the frames already waiting (up to 512 at a time), commits
the lab's two rows a message in one transaction (`raw_lockstep.Commit.many`:
the lab's statements, WAL, synchronous=OFF) and only then sends each on; the rate is messages over the
last hop's first-to-last time, against raw PUSH -> PULL like the row's.

http: client -> a -> b -> c, stdlib only: each hop is a ThreadingHTTPServer in a
process (and session) of its own that commits the lab's transaction
(`raw_lockstep.Commit`) and, but for the last, POSTs the body on to the next
hop over one keep-alive connection (TCP_NODELAY) before it answers. The
lab's chain does the same work with its own framing, ledger and records, so
this is what plain Python code pays for three nested round trips with a
commit each.
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import socket
import tempfile
import threading
import time
from typing import Any

import zmq
from raw_lockstep import BODY, Commit, QuietHandler, _finish, _spawn, _stats, serve
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

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:  # the lab's handler commits under one lock too
                    commit()
                if next_port:
                    if not hasattr(local, "conn"):
                        local.conn = _connect(next_port)
                    local.conn.request("POST", "/messages", body, {"Content-Type": "application/octet-stream"})
                    local.conn.getresponse().read()
                self.answer()

        serve(Handler, ready)


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


def _zmq_hop(downstream: int, last_of: int, ready: Any, result: Any) -> None:
    """A PULL on a port of its own; commit each waiting run of messages, then PUSH them on to
    `downstream` (0: the last hop, which counts `last_of` messages and reports its rate)."""
    own_session()
    with tempfile.TemporaryDirectory() as tmp:
        commit = Commit(tmp)
        ctx = zmq.Context()
        pull = ctx.socket(zmq.PULL)
        pull.setsockopt(zmq.LINGER, 0)
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        push = None
        if downstream:
            push = ctx.socket(zmq.PUSH)
            push.setsockopt(zmq.LINGER, 0)
            push.connect(f"tcp://127.0.0.1:{downstream}")
        ready.put(port)
        recv, seen, start = pull.recv, 0, 0.0
        while True:
            frames = [recv()]
            if not seen:
                start = time.perf_counter()
            try:
                while len(frames) < 512:
                    frames.append(recv(zmq.NOBLOCK))
            except zmq.Again:
                pass
            commit.many(len(frames))
            seen += len(frames)
            if push is not None:
                for frame in frames:
                    push.send(frame)
            elif seen >= last_of:
                result.put((seen - 1) / (time.perf_counter() - start))
                return


def zmq_chain(n: int) -> float:
    """Messages a second through HOPS raw zmq hops that commit before sending on."""
    spawn = mp.get_context("spawn")
    result: Any = spawn.Queue()
    procs, port = [], 0
    try:
        for _ in range(HOPS):  # the last hop first: each one is told the port of the next
            ready: Any = spawn.Queue()
            proc = spawn.Process(target=_zmq_hop, args=(port, n, ready, result), daemon=True)
            proc.start()
            procs.append(proc)
            port = int(ready.get(timeout=60))
        ctx = zmq.Context()
        push = ctx.socket(zmq.PUSH)
        push.setsockopt(zmq.LINGER, 0)
        try:
            push.connect(f"tcp://127.0.0.1:{port}")
            for _ in range(n):
                push.send(BODY)
            return float(result.get(timeout=300))
        finally:
            push.close()
            ctx.term()
    finally:
        for proc in procs:
            proc.terminate()
            _finish(proc)


def main() -> None:
    """PYTHONPATH=.:bench python bench/raw_chain.py [rounds]: the raw chain against one raw round trip."""
    import sys

    from raw_lockstep import http_keepalive
    from raw_stream import pushpull

    for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 3):
        one_hop, chain_rate = pushpull(200_000, 1), zmq_chain(200_000)
        print(f"round {i + 1}: raw PUSH/PULL {one_hop:,.0f} msg/s, raw {HOPS}-hop zmq chain committing "
              f"before sending on {chain_rate:,.0f} msg/s: {chain_rate / one_hop:.2f} x", flush=True)
        one = http_keepalive(2000, False)["p50_ms"]
        chain = http_chain(2000)["p50_ms"]
        print(f"round {i + 1}: one raw keep-alive round trip {one:.3f} ms, raw {HOPS}-hop chain with a commit "
              f"a hop {chain:.3f} ms: {chain / one:.2f} x", flush=True)


if __name__ == "__main__":
    main()
