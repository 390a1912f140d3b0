"""The smtp client against a real aiosmtpd server that answers as scripted: 4xx retried, 5xx not.

The server is real (aiosmtpd on 127.0.0.1); only its answers are chosen by the
test, so each class of refusal can be seen on its own. The recorder and the
pacer are small fakes that keep what the driver told them.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections import Counter
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from engines.transports import driver
from engines.transports.base import SMTP, ClientConfig, ClientContext, Peer
from engines.transports.maildirs import parse_message_id


class Pacer:
    rate = 0.0

    def __init__(self, n: int) -> None:
        self.left = list(range(n))

    @property
    def finished(self) -> bool:
        return not self.left

    def take(self, max_n: int = 1) -> range:
        if not self.left:
            return range(0)
        seq = self.left.pop(0)
        return range(seq, seq + 1)

    def next_due_in(self) -> float:
        return 0.0


class Recorder:
    """Counts every call by name, and the error kinds."""

    capacity = 16

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.acked: set[int] = set()

    def __getattr__(self, name: str) -> Any:
        def record(seq: int = -1, *args: Any) -> None:
            self.calls[name] += 1
            if name == "error":
                self.kinds[args[0] if args else "other"] += 1
            if name == "ack":
                self.acked.add(seq)
        return record


class Scripted:
    """Answers DATA per sequence number from a script; then 250."""

    def __init__(self, script: dict[int, list[str]]) -> None:
        self.script = script
        self.seen: Counter[int] = Counter()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        header = envelope.original_content.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0]
        mid = parse_message_id(header.decode())
        assert mid is not None
        seq = mid[1]
        self.seen[seq] += 1
        answers = self.script.get(seq, [])
        return answers.pop(0) if answers else "250 2.0.0 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.timeout(30)
def test_4xx_is_retried_5xx_is_not_and_they_count_apart() -> None:
    handler = Scripted({0: ["451 4.3.0 later", "421 4.3.2 closing"], 1: ["550 5.7.1 no"],
                        2: ["554 5.6.0 never"]})
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, server_hostname="test")
    controller.start()
    try:
        recorder = Recorder()
        ctx = ClientContext(
            config=ClientConfig(name="shop", style="notification", transport="smtp", retries=3,
                                timeout_ms=50),
            client_index=0, peers=[Peer(name="mail", link="shop->mail", index=0,
                                        endpoints={SMTP: f"127.0.0.1:{port}"})],
            listen={}, pacer=Pacer(4), recorder=recorder, stop=threading.Event(),
            log=logging.getLogger("test"), payload=b"\xa5" * 100)
        driver("smtp", "notification", "client").run(ctx)
    finally:
        controller.stop()
    assert handler.seen == {0: 3, 1: 1, 2: 1, 3: 1}  # two 4xx then a 250; 5xx once each
    assert recorder.acked == {0, 3}
    assert recorder.kinds == {"smtp-4xx": 2, "smtp-5xx": 2}
    assert recorder.calls["retry"] == 2 and recorder.calls["nack"] == 2
    assert recorder.calls["gave_up"] == 0 and recorder.calls["in_doubt"] == 0


@pytest.mark.timeout(30)
def test_a_refused_connection_is_retried_then_given_up() -> None:
    recorder = Recorder()
    ctx = ClientContext(
        config=ClientConfig(name="shop", style="notification", transport="smtp", retries=2,
                            timeout_ms=20),
        client_index=0, peers=[Peer(name="mail", link="shop->mail", index=0,
                                    endpoints={SMTP: f"127.0.0.1:{_free_port()}"})],
        listen={}, pacer=Pacer(1), recorder=recorder, stop=threading.Event(),
        log=logging.getLogger("test"), payload=b"")
    driver("smtp", "notification", "client").run(ctx)
    assert recorder.kinds["refused"] == 3 and recorder.calls["retry"] == 2
    assert recorder.calls["gave_up"] == 1 and not recorder.acked
