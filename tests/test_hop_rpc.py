"""A service's call hop over zmq (engines.nodes.hop_rpc) against a real ROUTER in this process.

The ROUTER is the test's stand-in for the downstream service (answering or
silent); the hop's driver, queue, record file, bulkhead and breaker are the
real ones.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict

import pytest
import zmq

from engines.nodes import records
from engines.nodes.hop_rpc import HopRpc
from engines.nodes.stats import ServiceStats
from engines.transports import wire
from engines.transports.base import ZMQ_ROUTER, Peer


class Router:
    """A ROUTER that answers every request while `answering` is set, and drops them otherwise."""

    def __init__(self) -> None:
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        port = self.sock.bind_to_random_port("tcp://127.0.0.1")
        self.endpoint = f"tcp://127.0.0.1:{port}"
        self.answering = threading.Event()
        self.stop = threading.Event()
        self.seen: list[int] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            if not self.sock.poll(20):
                continue
            parts = self.sock.recv_multipart()
            header = wire.unpack(parts[-1])
            self.seen.append(header[4])
            if self.answering.is_set():
                self.sock.send_multipart([*parts[:-1], wire.reply_to(header)])

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()
        self.ctx.term()


@pytest.fixture
def router():
    r = Router()
    yield r
    r.close()


def hop(router: Router, style: str, **settings: int) -> dict[str, object]:
    peer = Peer(name="payment", link="order->payment", index=0, endpoints={ZMQ_ROUTER: router.endpoint})
    spec: dict[str, object] = {"name": "order->payment@shop", "index": 1, "link": "order->payment",
                               "style": style, "transport": "zmq", "timeout_ms": 200, "retries": 0,
                               "in_flight": 100, "max_concurrent": 0, "breaker_failures": 0,
                               "breaker_open_ms": 5000, "capacity": 100, "peers": [asdict(peer)]}
    spec.update(settings)
    return spec


def make(router: Router, tmp_path, style: str, **settings: int) -> tuple[HopRpc, ServiceStats, list[str]]:
    stats = ServiceStats(2)
    changes: list[str] = []
    rpc = HopRpc(hop(router, style, **settings), tmp_path, stats, {"shop": 0, "order->payment@shop": 1},
                 logging.getLogger("test"), lambda old, new: changes.append(new), threading.Event())
    rpc.start()
    return rpc, stats, changes


@pytest.mark.timeout(30)
@pytest.mark.parametrize("style", ["request-response", "async-request-response"])
def test_answered_calls_succeed_and_are_recorded(router, tmp_path, style):
    router.answering.set()
    rpc, stats, _ = make(router, tmp_path, style, timeout_ms=5000)  # a REQ's queued calls share the budget
    try:
        assert rpc.call_many([3, 4, 5]) == [True, True, True]
        assert rpc.call(6) is True
    finally:
        rpc.close()
    rec = records.read(tmp_path / "hop-1.rec")
    assert [bool(rec.status[s] & records.ACKED) for s in (3, 4, 5, 6)] == [True] * 4
    assert stats.snapshot()["c"]["calls_in_flight|order->payment"] == 0


@pytest.mark.timeout(30)
def test_a_silent_downstream_fails_the_call_and_a_queued_call_is_withdrawn_unsent(router, tmp_path):
    """A REQ has one call out: the second waits behind it and is withdrawn when its budget ends."""
    rpc, stats, _ = make(router, tmp_path, "request-response", timeout_ms=300)
    try:
        assert rpc.call_many([7, 8]) == [False, False]
    finally:
        rpc.close()
    counters = stats.snapshot()["c"]
    assert router.seen[0] == 7
    rec = records.read(tmp_path / "hop-1.rec")
    assert rec.status[7] & records.TIMEOUT
    if 8 not in router.seen:  # never sent: withdrawn from the queue, counted
        assert counters["call_queue_timeouts|order->payment"] == 1
        assert rec.counters["sent"] == 1  # only 7 went out


@pytest.mark.timeout(30)
def test_bulkhead_and_breaker_wrap_a_zmq_call(router, tmp_path):
    rpc, stats, changes = make(router, tmp_path, "async-request-response", timeout_ms=1000,
                               max_concurrent=2, breaker_failures=2, breaker_open_ms=300)
    try:
        assert rpc.call_many([1, 2, 3]) == [False, False, False]  # 3 refused by the bulkhead; 1, 2 time out
        assert rpc.call(4) is False  # the breaker is open: short-circuited, never sent
        router.answering.set()
        threading.Event().wait(0.4)  # half-open after breaker_open_ms: one trial goes through
        assert rpc.call(5) is True
    finally:
        rpc.close()
    counters = stats.snapshot()["c"]
    assert counters["rejected_bulkhead|order->payment"] == 1
    assert counters["short_circuited|order->payment"] == 1
    assert changes == ["open", "half-open", "closed"]
    assert 4 not in router.seen and 3 not in router.seen
