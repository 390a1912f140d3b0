"""Raw pika baselines shared by the AMQP benches: a pipelined confirmed publisher, a batched-ack
consumer, and a lockstep RPC pair, each in its own spawned process.

The fastest way pika allows (its async adapter, SelectConnection), with the
guarantees the lab gives: publisher confirms, persistent messages, a durable
queue (classic, or any type via `arguments`), mandatory publishing, manual
acks after the work. Every process stops its ioloop once its connection is
closed (`on_close_callback`), so it exits as soon as it is done: without
that, `conn.close()` leaves `ioloop.start()` running and each round waited
for the join timeouts.
"""

from __future__ import annotations

import multiprocessing as mp
import statistics
import tempfile
import time
import uuid
from typing import Any

from sessions import own_session

PAYLOAD = 256
BODY = 22 + PAYLOAD  # the lab's header (engines.transports.wire) + payload
WINDOW = 1000
ACK_EVERY = 100
QUORUM = {"x-queue-type": "quorum"}


def _connect(url: str, on_open: Any) -> Any:
    import pika
    from pika.adapters.select_connection import SelectConnection

    return SelectConnection(pika.URLParameters(url), on_open_callback=on_open,
                            on_open_error_callback=lambda c, _e: c.ioloop.stop(),
                            on_close_callback=lambda c, _e: c.ioloop.stop())


def _consumer(url: str, queue: str, n: int, prefetch: int, arguments: dict[str, Any] | None,
              ready: Any, result: Any) -> None:
    own_session()
    state = {"got": 0, "first": 0.0, "unacked": 0}
    ack_every = min(ACK_EVERY, max(1, prefetch // 2))  # acking a full window would stall the broker

    def on_message(ch: Any, method: Any, _props: Any, _body: bytes) -> None:
        if not state["got"]:
            state["first"] = time.perf_counter()
        state["got"] += 1
        state["unacked"] += 1
        if state["unacked"] >= ack_every or state["got"] == n:
            ch.basic_ack(method.delivery_tag, multiple=True)
            state["unacked"] = 0
        if state["got"] == n:
            result.put((n - 1) / (time.perf_counter() - state["first"]))
            conn.close()

    def on_channel(ch: Any) -> None:
        def consume(_frame: Any) -> None:
            ch.basic_consume(queue, on_message, auto_ack=False, callback=lambda _f: ready.put(True))

        ch.basic_qos(prefetch_count=prefetch, callback=lambda _f: ch.queue_declare(
            queue, durable=True, arguments=arguments, callback=consume))

    conn = _connect(url, lambda c: c.channel(on_open_callback=on_channel))
    conn.ioloop.start()


def _publisher(url: str, queue: str, n: int, arguments: dict[str, Any] | None) -> None:
    import pika

    own_session()

    body = b"x" * BODY
    props = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent)
    state = {"sent": 0, "confirmed": 0}
    channel: list[Any] = []

    def pump() -> None:
        ch = channel[0]
        while state["sent"] < n and state["sent"] - state["confirmed"] < WINDOW:
            ch.basic_publish("", queue, body, props, mandatory=True)
            state["sent"] += 1

    def on_confirm(frame: Any) -> None:
        method = frame.method
        state["confirmed"] = method.delivery_tag if method.multiple else state["confirmed"] + 1
        if state["confirmed"] >= n:
            conn.close()
        elif state["sent"] - state["confirmed"] <= WINDOW // 2:
            pump()

    def on_channel(ch: Any) -> None:
        channel.append(ch)
        ch.confirm_delivery(ack_nack_callback=on_confirm)
        ch.queue_declare(queue, durable=True, arguments=arguments, callback=lambda _f: pump())

    conn = _connect(url, lambda c: c.channel(on_open_callback=on_channel))
    conn.ioloop.start()


def _join(*procs: Any) -> None:
    for proc in procs:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=5)


def notification_rate(url: str, n: int, prefetch: int, arguments: dict[str, Any] | None = None) -> float:
    """Messages per second end to end (at the consumer), raw publisher and consumer processes."""
    spawn = mp.get_context("spawn")
    queue = f"bench-raw-{uuid.uuid4().hex[:8]}"
    ready: Any = spawn.Queue()
    result: Any = spawn.Queue()
    consumer = spawn.Process(target=_consumer, args=(url, queue, n, prefetch, arguments, ready, result))
    consumer.start()
    publisher = None
    try:
        ready.get(timeout=60)
        publisher = spawn.Process(target=_publisher, args=(url, queue, n, arguments))
        publisher.start()
        return float(result.get(timeout=600))
    finally:
        _join(*(p for p in (publisher, consumer) if p is not None))


def _rpc_server(url: str, queue: str, prefetch: int, ready: Any) -> None:
    """Consume requests, commit the lab's transaction for each, reply, then ack (manual)."""
    import pika
    from raw_lockstep import STOP, Commit

    own_session()

    with tempfile.TemporaryDirectory() as tmp:
        commit = Commit(tmp)

        def on_request(ch: Any, method: Any, props: Any, body: bytes) -> None:
            if body == STOP:
                ch.basic_ack(method.delivery_tag)
                conn.close()
                return
            commit()
            ch.basic_publish("", props.reply_to, b"r" * 24,
                             pika.BasicProperties(correlation_id=props.correlation_id))
            ch.basic_ack(method.delivery_tag)

        def on_channel(ch: Any) -> None:
            ch.basic_qos(prefetch_count=prefetch, callback=lambda _f: ch.queue_declare(
                queue, durable=True, callback=lambda _f: ch.basic_consume(
                    queue, on_request, auto_ack=False, callback=lambda _f: ready.put(True))))

        conn = _connect(url, lambda c: c.channel(on_open_callback=on_channel))
        conn.ioloop.start()


def _rpc_client(url: str, queue: str, m: int, result: Any) -> None:
    """Lockstep calls: publish (confirmed, persistent, mandatory), wait for the reply, repeat."""
    import pika
    from raw_lockstep import STOP

    own_session()
    body = b"x" * BODY
    times: list[float] = []
    state: dict[str, Any] = {"start": 0.0, "reply_to": ""}
    channel: list[Any] = []

    def call() -> None:
        ch = channel[0]
        if len(times) >= m:
            ch.basic_publish("", queue, STOP, pika.BasicProperties(delivery_mode=2))
            result.put(times)
            conn.ioloop.call_later(0.2, conn.close)
            return
        state["start"] = time.perf_counter()
        ch.basic_publish("", queue, body, pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent, reply_to=state["reply_to"],
            correlation_id=str(len(times))), mandatory=True)

    def on_reply(_ch: Any, _method: Any, props: Any, _body: bytes) -> None:
        if props.correlation_id == str(len(times)):
            times.append(time.perf_counter() - state["start"])
            call()

    def on_channel(ch: Any) -> None:
        channel.append(ch)

        def declared(frame: Any) -> None:
            state["reply_to"] = frame.method.queue
            ch.basic_consume(state["reply_to"], on_reply, auto_ack=True, callback=lambda _f: call())

        ch.confirm_delivery(ack_nack_callback=lambda _f: None,
                            callback=lambda _f: ch.queue_declare("", exclusive=True, auto_delete=True,
                                                                 callback=declared))

    conn = _connect(url, lambda c: c.channel(on_open_callback=on_channel))
    conn.ioloop.start()


def rpc_round_trips(url: str, m: int, prefetch: int) -> dict[str, float]:
    """p50 ms and rate (calls a second) of m lockstep RPC calls, raw pika client and server processes."""
    spawn = mp.get_context("spawn")
    queue = f"bench-rpc-{uuid.uuid4().hex[:8]}"
    ready: Any = spawn.Queue()
    result: Any = spawn.Queue()
    server = spawn.Process(target=_rpc_server, args=(url, queue, prefetch, ready))
    server.start()
    client = None
    try:
        ready.get(timeout=60)
        client = spawn.Process(target=_rpc_client, args=(url, queue, m, result))
        client.start()
        times = result.get(timeout=300)[m // 20:]
    finally:
        _join(*(p for p in (client, server) if p is not None))
    return {"p50_ms": statistics.median(times) * 1e3, "rate": len(times) / sum(times)}
