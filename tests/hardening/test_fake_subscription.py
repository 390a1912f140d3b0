"""Only the lab's own subscribers count as joined on a publisher's XPUB port.

Any bytes on the port (64 KiB of noise, which libzmq takes for a ZMTP 1.0
peer and answers with a subscribe-to-everything) or a stranger's SUB socket
used to count as a subscriber joining: the publisher started before the real
subscribers had connected and they lost the first messages. The lab's
subscribers now also subscribe to a join topic derived from the run's secret,
and only that subscription counts. Real sockets, a fake recorder.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
import zmq

from engines.transports import zmq_pubsub
from engines.transports.base import ZMQ_PUB


class _Counts:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def count(self, name: str, n: int = 1) -> None:
        self.values[name] = self.values.get(name, 0) + n


def _client_ctx(endpoint: str, expect: int) -> Any:
    return SimpleNamespace(peers=[], listen={ZMQ_PUB: endpoint}, expect_subscribers=expect,
                           stop=threading.Event(), log=logging.getLogger("pub"), recorder=_Counts(),
                           client_index=3, run_token="secret-of-this-run")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.timeout(30)
def test_noise_and_strangers_do_not_count_as_subscribers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zmq_pubsub, "JOIN_WAIT_S", 1.5)
    endpoint = f"tcp://127.0.0.1:{_free_port()}"
    ctx = _client_ctx(endpoint, expect=1)
    zctx = zmq.Context()
    pub = zmq_pubsub._publisher(ctx, zctx)
    stranger = zctx.socket(zmq.SUB)
    stranger.setsockopt(zmq.LINGER, 0)
    stranger.setsockopt(zmq.SUBSCRIBE, b"")
    stranger.connect(endpoint)
    noise = socket.create_connection(("127.0.0.1", int(endpoint.rpartition(":")[2])))
    try:
        try:
            noise.sendall(random.Random(17).randbytes(65536))
        except OSError:
            pass  # libzmq may hang up on it half way
        started = time.monotonic()
        joined = zmq_pubsub._await_subscribers(pub, ctx)
        assert joined == 0, "noise or a stranger's SUB was counted as the lab's subscriber"
        assert time.monotonic() - started >= 1.4  # it waited for the real one
        assert ctx.recorder.values.get("subscribers_joined", 0) == 0
    finally:
        noise.close()
        stranger.close()
        pub.close()
        zctx.term()


@pytest.mark.timeout(30)
def test_the_labs_own_subscriber_counts_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zmq_pubsub, "JOIN_WAIT_S", 10.0)
    endpoint = f"tcp://127.0.0.1:{_free_port()}"
    ctx = _client_ctx(endpoint, expect=1)
    zctx = zmq.Context()
    pub = zmq_pubsub._publisher(ctx, zctx)
    service = SimpleNamespace(config=SimpleNamespace(hwm=1000), run_token="secret-of-this-run")
    inbound = [SimpleNamespace(publisher={ZMQ_PUB: endpoint}, client_index=3)]
    sub = zmq_pubsub._subscriber(service, zctx, inbound)  # type: ignore[arg-type]
    try:
        assert zmq_pubsub._await_subscribers(pub, ctx) == 1
        pub.send(b"\x03published")  # the subscriber still gets every message
        assert sub.poll(5000) and sub.recv() == b"\x03published"
    finally:
        sub.close()
        pub.close()
        zctx.term()
