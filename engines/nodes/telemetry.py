"""Node side of telemetry: counters and histograms to the supervisor, ten times a second.

One ZeroMQ PUSH socket to the supervisor's PULL, msgpack-encoded snapshots of
cumulative counters (never per message), or once a second while nothing
changes. Events (ready, done, gave-up) go
through the same thread, because a ZeroMQ socket must stay in one thread.
Sends never block: if the supervisor is slow or gone, a snapshot is dropped
and the next one, being cumulative, replaces it. The socket logs in with
ZeroMQ's PLAIN mechanism (user: the node's name, password: the run's token
from the 0600 spec file), so the supervisor accepts only its own run's nodes.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import msgpack
import zmq

INTERVAL_S = 0.1
HEARTBEAT_S = 1.0  # an unchanged snapshot goes out this often: an idle node costs the supervisor little


class Telemetry:
    """Sends `snapshot()` every INTERVAL_S and events as they happen, from one thread."""

    def __init__(self, endpoint: str, node: str, token: str | None = None) -> None:
        self.node = node
        self.pid = os.getpid()
        self.ctx = zmq.Context(1)
        self.sock = self.ctx.socket(zmq.PUSH)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.SNDHWM, 1000)
        if token:
            self.sock.plain_username = node.encode()
            self.sock.plain_password = token.encode()
        self.sock.connect(endpoint)
        self._events: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._snapshot: Callable[[], dict[str, Any]] | None = None
        self._state = "starting"
        self._last: dict[str, Any] | None = None
        self._last_sent = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="telemetry", daemon=True)
        self._thread.start()

    def watch(self, snapshot: Callable[[], dict[str, Any]]) -> None:
        """From now on, send what `snapshot()` returns every tick."""
        self._snapshot = snapshot

    def event(self, kind: str, **fields: Any) -> None:
        """A state change (ready, done, gave-up...), sent at once."""
        if kind in ("ready", "done", "gave-up", "paused"):
            self._state = kind
        self._events.put({"t": "event", "event": kind, "ts": time.time(), **fields})  # when it happened

    def _send(self, message: dict[str, Any]) -> None:
        message.setdefault("node", self.node)
        message.setdefault("pid", self.pid)
        message.setdefault("ts", time.time())
        try:
            self.sock.send(msgpack.packb(message), zmq.NOBLOCK)
        except zmq.Again:
            pass

    def _tick(self, force: bool = False) -> None:
        if self._snapshot is not None:
            try:
                snap = self._snapshot()
            except Exception as exc:  # noqa: BLE001 - telemetry must never kill the node
                snap = {"error": repr(exc)}
            message = {"t": "metrics", "state": self._state, **snap}
            now = time.monotonic()
            if not force and message == self._last and now - self._last_sent < HEARTBEAT_S:
                return
            self._last, self._last_sent = message, now
            self._send(dict(message))

    def _loop(self) -> None:
        next_tick = time.monotonic()
        while not self._stop.is_set():
            timeout = max(0.0, next_tick - time.monotonic())
            try:
                self._send(self._events.get(timeout=timeout))
                continue
            except queue.Empty:
                pass
            self._tick()
            next_tick = time.monotonic() + INTERVAL_S

    def close(self, final: dict[str, Any] | None = None) -> None:
        """Last snapshot and events, then close (bounded linger: the tail must reach the supervisor)."""
        self._stop.set()
        self._thread.join(timeout=2)
        while True:
            try:
                self._send(self._events.get_nowait())
            except queue.Empty:
                break
        self._tick(force=True)
        if final:
            self._send(final)
        self.sock.setsockopt(zmq.LINGER, 500)
        self.sock.close()
        self.ctx.term()
