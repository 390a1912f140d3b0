"""Queue depth over AMQP: a passive queue.declare per queue, surviving a dead broker.

Never `rabbitmqctl` (DESIGN trap). A passive declare reports the ready count
and the number of consumers; unacknowledged counts are not in AMQP, so the
runtime takes them from the consumers (each knows how many it holds).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pika

from engines.brokers.handle import AMQP_ERRORS

_ERRORS: tuple[type[BaseException], ...] = (*AMQP_ERRORS, AssertionError)


@dataclass(frozen=True)
class QueueDepth:
    ready: int
    consumers: int


class QueueDepthSampler:
    """Samples the depth of named queues on one broker; returns {} while it is down.

    Each sample is bounded by `timeout` even on a paused (SIGSTOPped) broker:
    the declares go through the channel's asynchronous side and the blocking
    connection only pumps I/O with a time limit.
    """

    def __init__(self, url: str, queue_names: Iterable[str], timeout: float = 1.0) -> None:
        self.url = url
        self.urls = url.split() or [url]  # a cluster: any member will do; next one on failure
        self._at = 0
        self.queue_names = list(queue_names)
        self.timeout = timeout
        self._conn: Any = None  # pika.BlockingConnection or None
        self._channel: Any = None  # pika's BlockingChannel (pika ships no types)
        self._retry_at = 0.0
        self._backoff = 0.25

    def set_queues(self, queue_names: Iterable[str]) -> None:
        self.queue_names = list(queue_names)

    def sample(self) -> dict[str, int]:
        """Ready messages per queue that exists; {} when the broker cannot be reached."""
        return {name: depth.ready for name, depth in self.sample_full().items()}

    def sample_full(self) -> dict[str, QueueDepth]:
        deadline = time.monotonic() + self.timeout
        result: dict[str, QueueDepth] = {}
        for attempt in range(2):  # a stale connection (broker restarted) gets one fresh try
            if not self._connected():
                return result
            ok = self._sample_into(result, deadline)
            if ok or attempt or time.monotonic() >= deadline:
                return result
        return result

    def close(self) -> None:
        self._drop()

    # -- internals -----------------------------------------------------------
    def _sample_into(self, result: dict[str, QueueDepth], deadline: float) -> bool:
        """Declare each missing queue passively; False if the connection died."""
        for name in self.queue_names:
            if name in result:
                continue
            replies: list[Any] = []
            try:
                self._channel._impl.queue_declare(
                    queue=name, passive=True, callback=replies.append
                )
                while not replies and self._channel.is_open and time.monotonic() < deadline:
                    self._conn.process_data_events(time_limit=0.02)
            except _ERRORS:
                self._drop()
                return False
            if replies:
                method = replies[0].method
                result[name] = QueueDepth(method.message_count, method.consumer_count)
            elif not self._channel.is_open:
                # 404: not declared (yet, or gone with a non-durable queue); new channel.
                if not self._reopen_channel():
                    return False
            else:  # out of time: the broker is paused or hung; abandon this connection
                self._abandon()
                return True
        return True

    def _connected(self) -> bool:
        if self._conn is not None and self._conn.is_open and self._channel is not None:
            return True
        if time.monotonic() < self._retry_at:
            return False
        params = pika.URLParameters(self.urls[self._at % len(self.urls)])
        params.connection_attempts = 1
        params.socket_timeout = self.timeout
        params.stack_timeout = self.timeout
        params.heartbeat = 0
        try:
            self._conn = pika.BlockingConnection(params)
            self._channel = self._conn.channel()
        except _ERRORS:
            self._drop()
            self._at += 1
            self._retry_at = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, 1.0)
            return False
        self._backoff = 0.25
        return True

    def _reopen_channel(self) -> bool:
        try:
            self._channel = self._conn.channel()
            return True
        except _ERRORS:
            self._drop()
            return False

    def _abandon(self) -> None:
        """Forget a connection whose broker does not answer, without waiting for close-ok."""
        conn, self._conn, self._channel = self._conn, None, None
        self._retry_at = time.monotonic() + self._backoff
        self._at += 1
        if conn is not None:
            try:
                conn._impl._transport.abort()  # noqa: SLF001 - close() would block
                for _ in range(3):  # the abort completes on the next I/O turn
                    conn.process_data_events(time_limit=0)
            except Exception:  # noqa: BLE001 - best effort on a dead peer; closed now
                pass

    def _drop(self) -> None:
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None and conn.is_open:
            try:
                conn.close()
            except _ERRORS:
                pass


class SamplerThread(threading.Thread):
    """Samples every `period_s` on its own thread; `latest()` never blocks."""

    def __init__(
        self,
        sampler: QueueDepthSampler,
        period_s: float = 0.5,
        sink: Callable[[float, dict[str, QueueDepth]], None] | None = None,
    ) -> None:
        super().__init__(name=f"queue-depth:{sampler.url.rsplit('@', 1)[-1]}", daemon=True)
        self.sampler = sampler
        self.period_s = period_s
        self.sink = sink
        self._stop_event = threading.Event()
        self._lock = threading.Lock()
        self._latest: tuple[float, dict[str, QueueDepth]] = (0.0, {})

    def latest(self) -> tuple[float, dict[str, QueueDepth]]:
        """(time.time() of the last sample, its depths); depths are {} while the broker is down."""
        with self._lock:
            return self._latest

    def run(self) -> None:
        try:
            while not self._stop_event.is_set():
                try:
                    depths = self.sampler.sample_full()
                except Exception:  # noqa: BLE001 - a sampler must outlive any broker state
                    self.sampler.close()
                    depths = {}
                now = time.time()
                with self._lock:
                    self._latest = (now, depths)
                if self.sink is not None:
                    self.sink(now, depths)
                self._stop_event.wait(self.period_s)
        finally:
            self.sampler.close()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)
