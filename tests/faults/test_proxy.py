"""The link proxy against a real echo server on loopback: pass, delay, cut, heal, lossy."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from engines.faults import ProxyHub

pytestmark = pytest.mark.timeout(30)


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        try:
            while data := self.request.recv(65536):
                self.request.sendall(data)
        except ConnectionError:
            pass  # the proxy resets links on purpose


@pytest.fixture
def echo() -> Iterator[tuple[str, int]]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address
    server.shutdown()
    server.server_close()


@pytest.fixture
def hub() -> Iterator[ProxyHub]:
    with ProxyHub() as h:
        yield h


def _connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def _round_trip(s: socket.socket, payload: bytes = b"ping") -> float:
    start = time.monotonic()
    s.sendall(payload)
    got = b""
    while len(got) < len(payload):
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        got += chunk
    assert got == payload
    return time.monotonic() - start


def test_passes_bytes_both_ways(hub, echo):
    proxy = hub.add("a->b", echo)
    with _connect(proxy.port) as s:
        _round_trip(s, b"x" * 100_000)
    assert proxy.stats.bytes_up == 100_000 and proxy.stats.bytes_down == 100_000


def test_latency_delays_each_direction_without_adding_up(hub, echo):
    proxy = hub.add("a->b", echo)
    with _connect(proxy.port) as s:
        base = min(_round_trip(s) for _ in range(5))
        proxy.set_latency(100)
        slow = min(_round_trip(s) for _ in range(3))
        # a burst of 5 writes is delayed once, not five times
        start = time.monotonic()
        for _ in range(5):
            s.sendall(b"y" * 10)
        got = b""
        while len(got) < 50:
            got += s.recv(100)
        burst = time.monotonic() - start
    assert slow >= base + 0.2 - 0.01  # 100 ms each way
    assert burst < 0.2 + 0.35


def test_cut_resets_and_heal_restores(hub, echo):
    proxy = hub.add("a->b", echo)
    s = _connect(proxy.port)
    _round_trip(s)
    proxy.cut()
    with pytest.raises(OSError):
        for _ in range(50):  # the reset lands within a few round trips
            _round_trip(s)
            time.sleep(0.02)
    s.close()
    with pytest.raises(OSError):
        with _connect(proxy.port) as s2:
            _round_trip(s2)
    proxy.heal()
    with _connect(proxy.port) as s3:
        _round_trip(s3)
    assert proxy.stats.resets >= 2


def test_lossy_link_resets_some_connections(hub, echo):
    proxy = hub.add("a->b", echo)
    proxy.set_loss(0.1)  # 6 chunks per try: about half the tries survive
    failures = 0
    for _ in range(20):
        try:
            with _connect(proxy.port) as s:
                for _ in range(3):
                    _round_trip(s)
        except OSError:
            failures += 1
    assert 0 < failures < 20


def test_upstream_down_resets_downstream(hub):
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        dead_port = spare.getsockname()[1]
    proxy = hub.add("a->b", ("127.0.0.1", dead_port))
    with pytest.raises(OSError):
        with _connect(proxy.port) as s:
            _round_trip(s)
