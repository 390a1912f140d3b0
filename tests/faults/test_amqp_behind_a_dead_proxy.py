"""An AMQP session whose broker is down behind a fault proxy keeps trying (issue 16, link faults).

The proxy accepts the TCP connection and resets it at once (its upstream, the
broker, is gone). pika checks `getpeername()` when the connect completes and
raised ValueError out of its ioloop, which ended the consumer: the run lost a
service for a broker restart. Here a real socket does what the proxy does.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time

import pytest

from engines.transports.amqp_session import Session


class ResettingListener:
    """Accept every connection and reset it at once (SO_LINGER 0), like a proxy whose upstream is down."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.mark.timeout(30)
def test_a_session_keeps_reconnecting_through_a_proxy_that_resets():
    listener = ResettingListener()
    stop = threading.Event()
    errors: list[str] = []
    session = Session(f"amqp://guest:guest@127.0.0.1:{listener.port}/%2F", [], stop,
                      logging.getLogger("test"), "consumer")
    session.on_connect_error = errors.append
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(session.run())
        except BaseException as exc:  # noqa: BLE001 - what the test is about
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while listener.accepted < 5 and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    stop.set()
    thread.join(10)
    listener.close()
    assert outcome == [True], f"the session ended with {outcome!r} instead of retrying"
    assert listener.accepted >= 5 and len(errors) >= 4


@pytest.mark.timeout(30)
def test_pikas_getpeername_valueerror_is_a_failed_attempt_not_the_end(monkeypatch):
    """The race itself, made certain: pika's stream check fails as it does when the reset wins."""
    from pika.adapters.utils import io_services_utils

    original = io_services_utils._AsyncStreamConnector.__init__
    raised: list[int] = []

    def racy_init(self, *args, **kwargs):  # noqa: ANN001, ANN202 - pika's own signature
        raised.append(1)
        raise ValueError("Expected connected socket, but getpeername() failed: "
                         "error=OSError(107, 'Transport endpoint is not connected')")

    monkeypatch.setattr(io_services_utils._AsyncStreamConnector, "__init__", racy_init)
    listener = ResettingListener()
    stop = threading.Event()
    session = Session(f"amqp://guest:guest@127.0.0.1:{listener.port}/%2F", [], stop,
                      logging.getLogger("test"), "consumer")
    errors: list[str] = []
    session.on_connect_error = errors.append
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(session.run())
        except BaseException as exc:  # noqa: BLE001 - what the test is about
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while len(raised) < 3 and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    stop.set()
    thread.join(10)
    listener.close()
    monkeypatch.setattr(io_services_utils._AsyncStreamConnector, "__init__", original)
    assert outcome == [True], f"the session ended with {outcome!r} instead of retrying"
    assert len(raised) >= 3 and any("getpeername" in e for e in errors)
