"""Garbage sent to a running node's sockets is counted as errors and never stops it.

While real clients send, a hostile local process writes to the services'
listeners (a zmq PULL, a zmq ROUTER, an HTTP server): empty and short frames,
truncated headers, a header that announces 4 GiB, unknown kinds, a client that
does not send there, wrong frame counts, 8 MiB of noise, broken HTTP. The real
traffic's counters stay exact, every piece of garbage is one counted error,
and every node ends normally.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import zmq

from engines.runtime import Supervisor
from engines.topology import topofile
from engines.transports import wire
from engines.transports.base import HTTP, ZMQ_PULL, ZMQ_ROUTER
from tests.conftest import ROOT

TOPOLOGY = """
version: 1
name: hostile-input
nodes:
  - {name: events, kind: client, style: notification, transport: zmq, rate: 400, count: 1600}
  - {name: asker, kind: client, style: async-request-response, transport: zmq, rate: 400, count: 1600,
     timeout_ms: 10000}
  - {name: shop, kind: client, style: request-response, transport: http, rate: 200, count: 600,
     timeout_ms: 10000}
  - {name: worker, kind: service}
  - {name: answerer, kind: service}
  - {name: inventory, kind: service}
links:
  - {from: events, to: worker}
  - {from: asker, to: answerer}
  - {from: shop, to: inventory}
"""
EVENTS, ASKER, SHOP = 0, 1, 2  # client indices, in file order


def _frames(kind: int, client: int) -> list[list[bytes]]:
    """Garbage for a zmq listener that takes `kind` from `client`: each item is one bad message."""
    good = wire.pack(kind, client, 999_999, 0, 1, b"x" * 8)
    return [
        [b""], [b"x"], [b"\x00" * 21],  # empty, short, one byte short of a header
        [good[:wire.HEADER_SIZE - 3]],  # truncated header
        [wire.HEADER.pack(kind, 0, client, 0, 1, 1, 0xFFFFFFFF) + b"abc"],  # announces 4 GiB
        [wire.pack(99, 0, client, 0, 1, b"")],  # unknown kind
        [wire.pack(wire.REPLY, client, 1, 0, 1)],  # a kind this listener does not take
        [wire.pack(kind, 77, 1, 0, 1)],  # a client that does not send here
        [good + b"\x01\x02"],  # trailing bytes
        [bytes(range(256)) * 32768],  # 8 MiB of noise
        [good, good, good],  # wrong frame count
    ]


def _zmq_garbage(endpoint: str, sock_type: int, frames: list[list[bytes]], envelope: bool) -> None:
    ctx = zmq.Context()
    sock = ctx.socket(sock_type)
    sock.setsockopt(zmq.LINGER, 2000)
    sock.connect(endpoint)
    for parts in frames:
        sock.send_multipart([b"", *parts] if envelope else parts)
    if envelope:  # a ROUTER peer: also a message without the empty delimiter
        sock.send_multipart([wire.pack(wire.REQUEST, ASKER, 5, 0, 1)])
    sock.close()
    ctx.term()


HEADER_OK = wire.pack(wire.REQUEST, SHOP, 999_999, 0, 1)
HTTP_GARBAGE = [
    b"GARBAGE\r\n\r\n",
    b"GET /messages HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /messages HTTP/1.1\r\nHost: x\r\n\r\n",  # no Content-Length
    b"POST /messages HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    b"POST /messages HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
    b"POST /messages HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
    b"POST /elsewhere HTTP/1.1\r\nContent-Length: 22\r\n\r\n" + HEADER_OK,
    b"POST /messages HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
    b"POST /messages HTTP/1.1\r\nContent-Length: 22\r\n\r\n" + wire.pack(99, 0, SHOP, 0, 1),
    b"POST /messages HTTP/1.1\r\nContent-Length: 22\r\n\r\n" + wire.pack(wire.REQUEST, 77, 1, 0, 1),
    b"POST /messages HTTP/1.1\r\nContent-Length: 44\r\n\r\n" + HEADER_OK + HEADER_OK,
    b"POST /messages HTTP/1.1\r\nIdempotency-Key: shop:99999999999999\r\nContent-Length: 22\r\n\r\n" + HEADER_OK,
    b"POST /messages HTTP/1.1\r\nIdempotency-Key: nobody:1\r\nContent-Length: 22\r\n\r\n" + HEADER_OK,
    b"POST /messages HTTP/1.1\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n",
    b"POST /messages HTTP/1.1\r\nContent-Le",  # truncated headers, then the connection closes
]


def _http_garbage(address: str) -> None:
    host, _, port = address.rpartition(":")
    for request in HTTP_GARBAGE:
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(request)
            conn.shutdown(socket.SHUT_WR)
            try:
                while conn.recv(65536):
                    pass
            except OSError:
                pass


def _attack(sup: Supervisor, done: threading.Event) -> None:
    listen = {name: json.loads((sup.run_dir / "nodes" / name / "spec.json").read_text())["listen"]
              for name in ("worker", "answerer", "inventory")}
    try:
        _zmq_garbage(listen["worker"][ZMQ_PULL].replace("0.0.0.0", "127.0.0.1"), zmq.PUSH,
                     _frames(wire.NOTIFY, EVENTS), envelope=False)
        _zmq_garbage(listen["answerer"][ZMQ_ROUTER], zmq.DEALER, _frames(wire.REQUEST, ASKER), envelope=True)
        _http_garbage(listen["inventory"][HTTP])
    finally:
        done.set()


@pytest.mark.timeout(120)
def test_garbage_is_counted_and_real_traffic_stays_exact(tmp_path: Path) -> None:
    topology = topofile.loads(TOPOLOGY).topology
    done = threading.Event()
    started: list[threading.Thread] = []

    def on_tick(sup: Supervisor) -> None:
        if sup.started_at is not None and not started:
            started.append(threading.Thread(target=_attack, args=(sup, done), daemon=True))
            started[0].start()

    with Supervisor(topology, tmp_path / "run") as sup:
        summary = sup.run(on_tick=on_tick)
    assert done.wait(30)
    nodes = summary["nodes"]
    for client, count in (("events", 1600), ("asker", 1600), ("shop", 600)):
        assert nodes[client]["sent"] == nodes[client]["processed"] == count, nodes[client]
        assert nodes[client]["lost"] == nodes[client]["duplicates_processed"] == 0
    assert nodes["worker"]["delivered"] == 1600 and nodes["answerer"]["delivered"] == 1600
    assert nodes["inventory"]["delivered"] == 600
    assert nodes["asker"]["acknowledged"] == 1600 and nodes["shop"]["acknowledged"] == 600
    assert nodes["worker"]["input_errors"] == len(_frames(wire.NOTIFY, EVENTS))
    assert nodes["answerer"]["input_errors"] == len(_frames(wire.REQUEST, ASKER)) + 1
    assert nodes["inventory"]["input_errors"] == len(HTTP_GARBAGE)
    states = summary["node_states"]
    assert {s["state"] for s in states.values()} == {"exited"}, states
    assert {s["exit_code"] for s in states.values()} == {0}, states


@pytest.mark.timeout(90)
def test_a_crashed_node_is_reported_with_its_last_log_lines(tmp_path: Path) -> None:
    """In the events, in summary.json and in what `labgui run` prints."""
    path = tmp_path / "crash.topo.yaml"
    path.write_text(TOPOLOGY.replace(
        "- {name: worker, kind: service}",
        "- {name: worker, kind: service, crash: {after: 100, point: after-commit}}"))
    out = tmp_path / "run"
    runner = subprocess.run([sys.executable, "-m", "labgui", "run", str(path), "--out", str(out),
                             "--duration", "4"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=80)
    assert runner.returncode == 0, runner.stderr
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    crashed = [e for e in events if e["event"] == "crashed"]
    assert [e["node"] for e in crashed] == ["worker"]
    assert "configured crash: message 100" in crashed[0]["log_tail"]
    state = json.loads((out / "summary.json").read_text())["node_states"]["worker"]
    assert state["state"] == "crashed" and "configured crash: message 100" in state["log_tail"]
    assert "worker crashed (configured crash); its log ends with:" in runner.stdout
    assert "configured crash: message 100" in runner.stdout.split("its log ends with:")[1]
