"""Well-formed messages with IDs no client sent, and HTTP headers with non-ASCII digits.

A local process that knows the wire format sends a real client's index with a
sequence that client never used (10^8, and 4294967295, the largest): the run
still ends with a summary, the real counters stay exact (processed never
exceeds sent), each forged message is counted as `hostile` at its service,
and the ledger's memory stays bounded by what was sent (4294967295 used to
ask numpy for 32 GiB). Requests whose Content-Length or Idempotency-Key are
Latin-1 superscript digits ("²", "¹": `str.isdigit` says yes, `int` says no)
get a 400 and count as input errors, with no traceback in the service's log.
"""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
import zmq

from engines.runtime import Supervisor
from engines.topology import topofile
from engines.transports import wire
from engines.transports.base import HTTP, ZMQ_PULL

TOPOLOGY = """
version: 1
name: forged-ids
nodes:
  - {name: events, kind: client, style: notification, transport: zmq, rate: 400, count: 800}
  - {name: shop, kind: client, style: request-response, transport: http, rate: 200, count: 400,
     timeout_ms: 10000}
  - {name: worker, kind: service}
  - {name: inventory, kind: service}
links:
  - {from: events, to: worker}
  - {from: shop, to: inventory}
"""
EVENTS, SHOP = 0, 1
FORGED_SEQS = (10**8, wire.MAX_SEQ)
BAD_DIGITS = [
    b"POST /messages HTTP/1.1\r\nContent-Length: \xb2\xb2\r\n\r\n" + wire.pack(wire.REQUEST, SHOP, 1, 0, 1),
    b"POST /messages HTTP/1.1\r\nIdempotency-Key: shop:\xb9\r\nContent-Length: 22\r\n\r\n"
    + wire.pack(wire.REQUEST, SHOP, 1, 0, 1),
]


def _post(address: str, request: bytes) -> bytes:
    host, _, port = address.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except OSError:
            pass
    return answer


def _attack(sup: Supervisor, answers: dict[str, list[bytes]], done: threading.Event) -> None:
    try:
        listen = {name: json.loads((sup.run_dir / "nodes" / name / "spec.json").read_text())["listen"]
                  for name in ("worker", "inventory")}
        ctx = zmq.Context()
        push = ctx.socket(zmq.PUSH)
        push.setsockopt(zmq.LINGER, 2000)
        push.connect(listen["worker"][ZMQ_PULL].replace("0.0.0.0", "127.0.0.1"))
        for seq in FORGED_SEQS:
            push.send(wire.pack(wire.NOTIFY, EVENTS, seq, 0, 1))
        push.close()
        ctx.term()
        http = listen["inventory"][HTTP]
        answers["forged"] = [_post(http, b"POST /messages HTTP/1.1\r\nContent-Length: 22\r\n\r\n"
                                   + wire.pack(wire.REQUEST, SHOP, seq, 0, 1)) for seq in FORGED_SEQS]
        answers["digits"] = [_post(http, request) for request in BAD_DIGITS]
    finally:
        done.set()


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, list[bytes]], Path]:
    topology = topofile.loads(TOPOLOGY).topology
    run_dir = tmp_path_factory.mktemp("forged") / "run"
    answers: dict[str, list[bytes]] = {}
    done = threading.Event()
    started: list[threading.Thread] = []

    def on_tick(sup: Supervisor) -> None:
        if sup.started_at is not None and not started:
            started.append(threading.Thread(target=_attack, args=(sup, answers, done), daemon=True))
            started[0].start()

    with Supervisor(topology, run_dir) as sup:
        summary = sup.run(on_tick=on_tick)
    assert done.wait(30)
    return summary, answers, run_dir


@pytest.mark.timeout(120)
def test_forged_ids_are_hostile_never_deliveries(attacked: tuple[dict[str, Any], dict[str, list[bytes]], Path]) -> None:
    summary, _, run_dir = attacked
    nodes = summary["nodes"]
    for client, count in (("events", 800), ("shop", 400)):
        assert nodes[client]["sent"] == nodes[client]["processed"] == count, nodes[client]
        assert nodes[client]["lost"] == nodes[client]["duplicates_processed"] == 0
    assert nodes["worker"]["delivered"] == 800 and nodes["inventory"]["delivered"] == 400
    assert nodes["worker"]["hostile"] == len(FORGED_SEQS)
    assert nodes["inventory"]["hostile"] == len(FORGED_SEQS)
    assert summary["total"]["hostile"] == 2 * len(FORGED_SEQS)
    assert summary["total"]["processed"] == summary["total"]["sent"] == 1200
    assert json.loads((run_dir / "summary.json").read_text())["total"]["hostile"] == 4


@pytest.mark.timeout(120)
def test_non_ascii_digits_in_http_headers_get_400_and_count(
        attacked: tuple[dict[str, Any], dict[str, list[bytes]], Path]) -> None:
    summary, answers, run_dir = attacked
    assert [a.split(b"\r\n", 1)[0] for a in answers["digits"]] == [b"HTTP/1.1 400 Bad Request"] * 2, answers
    assert summary["nodes"]["inventory"]["input_errors"] == len(BAD_DIGITS)
    log = (run_dir / "nodes" / "inventory" / "node.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-2000:]
