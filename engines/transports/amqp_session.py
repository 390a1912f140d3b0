"""One pika connection that survives its broker: reconnect with backoff, redeclare, go on.

Every amqp driver runs inside a `Session`: a SelectConnection (pika's fast
async adapter) whose ioloop runs in the driver's thread. When the connection
is lost, however it is lost, the session tells the driver (`on_lost`), waits
a backoff, reconnects, declares the channels again and tells the driver
(`on_ready`). Traps avoided (DESIGN.md):

- pika's example loop gives up on ConnectionClosedByBroker, so it never
  reconnects after a *graceful* broker stop: here every close that we did not
  ask for leads to a reconnect;
- a channel the broker closes leaves the connection open and the consumer
  silent: the channel-closed callback closes the connection, which reconnects;
- queues are declared again after every reconnect, before any publish or consume;
- behind a fault proxy whose broker is down, pika's own `getpeername` check raises
  ValueError out of the ioloop: it is a failed attempt, and the session goes on.

The loop is bounded by `stop` (checked every `tick_s`) and, optionally, by
`give_up_after()` seconds without a connection (re-read at every attempt).

A clustered broker comes as several URLs (space separated): the session
tries them in turn, starting after the member that just failed, with short
connect timeouts; a successful connect after a loss is a reconnect, and one
to another member than before is a failover (`on_reconnect(failover, url
index)`, once per connection). `abandon()` drops a connection that stopped
answering (a paused member accepts TCP and never replies) without waiting for
the close handshake.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pika
import pika.exceptions
from pika.adapters.select_connection import SelectConnection

from engines.transports.amqp_declare import declare

BACKOFF_S = (0.1, 0.2, 0.4, 0.8, 1.0)
HEARTBEAT_S = 5  # a paused broker is noticed after about heartbeat + 5 s
CLOSE_WAIT_S = 2.0  # a close the broker does not answer within this is abandoned
ELECTION_WAIT_S = 1.0  # after losing a cluster member, before connecting to the next one
CLUSTER_HEARTBEAT_S = 5  # as a single broker's: shorter ones dropped live members under load

logging.getLogger("pika").setLevel(logging.CRITICAL)  # pika logs every failed connect


class Session:
    """Runs callbacks on a (re)connecting channel until `stop` or `finish()`.

    Callbacks run on the ioloop thread (the caller of `run`):
      on_ready(channel)   connected, channel open, everything declared
      on_lost(reason)     the channel or connection went away (not after finish())
      on_tick()           every `tick_s` while connected
      on_connect_error(reason)  a connection attempt failed
    """

    def __init__(
        self,
        url: str,
        specs: Sequence[Mapping[str, Any]],
        stop: threading.Event,
        log: logging.Logger,
        name: str,
        tick_s: float = 0.02,
        give_up_after: Callable[[], float | None] = lambda: None,
        heartbeat_s: int = HEARTBEAT_S,
    ) -> None:
        self.urls = url.split() or [url]
        self.url = self.urls[0]
        self.index = 0  # the URL tried next (or connected now)
        self.last_index: int | None = None  # the member of the last successful connection
        self.specs = specs
        self.stop = stop
        self.log = log
        self.name = name
        self.tick_s = tick_s
        self.give_up_after = give_up_after
        self.heartbeat_s = heartbeat_s  # 0: no heartbeats (a stuck peer is noticed only by TCP)
        self.on_ready: Callable[[Any], None] = lambda channel: None
        self.on_lost: Callable[[str], None] = lambda reason: None
        self.on_tick: Callable[[], None] = lambda: None
        self.on_connect_error: Callable[[str], None] = lambda reason: None
        self.on_reconnect: Callable[[bool, int], None] = lambda failover, index: None
        self.connection: SelectConnection | None = None
        self.channel: Any = None
        self.connected = False
        self.connected_once_this_round = False
        self.connects = 0
        self.reconnects = 0
        self.failovers = 0
        self._finishing = False
        self._finish_at = 0.0
        self._failed_index: int | None = None  # the member whose loss we are failing over from
        self._quiet_loss = False  # the next loss is our own doing on a healthy member
        self._lost_at = time.monotonic()
        self.last_outage_s = 0.0  # from the loss of a member to ready again on the next one
        self._reasons_logged: set[str] = set()

    # -- driver API ------------------------------------------------------------
    def finish(self) -> None:
        """Close on purpose: no on_lost, no reconnect; `run` returns."""
        self._finishing = True
        self._finish_at = time.monotonic()
        conn = self.connection
        if conn is not None and not (conn.is_closed or conn.is_closing):
            try:
                conn.close()
                return
            except pika.exceptions.AMQPError:
                pass
        if conn is not None:
            conn.ioloop.stop()

    @property
    def clustered(self) -> bool:
        return len(self.urls) > 1

    def abandon(self, reason: str, member_failed: bool = True) -> None:
        """Drop a connection that stopped answering (no close handshake); reconnects.

        `member_failed=False`: the member is fine but this channel is not (a nack while
        its queue had no leader); the reconnect that follows is not another failover.
        """
        conn = self.connection
        if conn is None or conn.is_closed:
            return
        if not member_failed:
            self._quiet_loss = True
        self._lost(reason)
        try:  # what pika's own heartbeat checker does: close() would wait for close-ok
            conn._terminate_stream(pika.exceptions.AMQPConnectionError(reason))  # noqa: SLF001
        except Exception:  # noqa: BLE001 - no stream any more: stop the loop instead
            conn.ioloop.stop()

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        if self.connection is not None:
            self.connection.ioloop.call_later(delay, callback)

    def run(self) -> bool:
        """Connect, reconnect, until finished or stopped; False if it gave up on the broker."""
        attempt = 0
        down_since: float | None = None
        while not self._finishing and not self.stop.is_set():
            self._run_once()
            if self._finishing or self.stop.is_set():
                break
            if self.connected_once_this_round:
                attempt, down_since = 0, None
            down_since = down_since or time.monotonic()
            limit = self.give_up_after()
            if limit is not None and time.monotonic() - down_since > limit:
                return False
            self.index = (self.index + 1) % len(self.urls)  # start after the member that failed
            self.url = self.urls[self.index]
            if self.clustered and self.connected_once_this_round:
                # a quorum queue elects a new leader in ~0.5 s; a channel opened before that
                # stays stuck on the old one (measured: nacks, no deliveries)
                self.stop.wait(ELECTION_WAIT_S)
            elif self.clustered and (attempt + 1) % len(self.urls):
                self.stop.wait(0.02)  # another member may be up: try it at once
            else:
                self.stop.wait(BACKOFF_S[min(attempt // len(self.urls), len(BACKOFF_S) - 1)])
            attempt += 1
        return True

    # -- internals ---------------------------------------------------------------
    def _run_once(self) -> None:
        self.connected_once_this_round = False
        params = pika.URLParameters(self.url)
        params.heartbeat = self.heartbeat_s
        params.connection_attempts = 1
        params.socket_timeout = 1.0 if self.clustered else 2.0
        params.stack_timeout = 3.0 if self.clustered else 4.0
        params.client_properties = {"connection_name": self.name}
        try:
            self.connection = SelectConnection(
                params,
                on_open_callback=self._on_open,
                on_open_error_callback=self._on_open_error,
                on_close_callback=self._on_closed,
            )
        except Exception as exc:  # noqa: BLE001 - any failure to even start is a failed attempt
            self._connect_failed(self._describe(exc))
            return
        self.connection.ioloop.call_later(self.tick_s, self._tick)
        try:
            self.connection.ioloop.start()
        except ValueError as exc:
            # pika checks `sock.getpeername()` once the TCP connect completes; behind a fault
            # proxy whose broker is down, the proxy accepts and at once resets, so the check
            # raises ValueError out of the ioloop. It is a failed attempt like any other.
            if self.connected:
                self._lost(self._describe(exc))
            else:
                self._connect_failed(self._describe(exc))
        finally:
            self.connected = False
            self.channel = None
            try:
                self.connection.ioloop.close()  # each connection has its own loop and wake-up sockets
            except Exception:  # noqa: BLE001 - already closed
                pass

    def _on_open(self, connection: SelectConnection) -> None:
        connection.channel(on_open_callback=self._on_channel)

    def _on_channel(self, channel: Any) -> None:
        self.channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        declare(channel, self.specs, lambda: self._declared(channel), owner=self.name)

    def _declared(self, channel: Any) -> None:
        if channel is not self.channel or not channel.is_open:
            return
        self.connected = True
        self.connected_once_this_round = True
        self.connects += 1
        previous, self.last_index = self.last_index, self.index
        failed, self._failed_index, self._quiet_loss = self._failed_index, None, False
        if previous is not None:
            # one failover per member that failed under us, however many tries it took
            self.reconnects += 1
            self.last_outage_s = round(time.monotonic() - self._lost_at, 3)
            failover = failed is not None and failed != self.index
            self.failovers += failover
            self.on_reconnect(failover, self.index)
        if self.connects > 1:  # the node's log says when it came back, not only when it lost it
            self.log.warning("%s: reconnected to the broker (connection %d), queues declared again",
                             self.name, self.connects)
        self.on_ready(channel)

    def _on_open_error(self, connection: SelectConnection, error: BaseException | str) -> None:
        self._connect_failed(self._describe(error))
        connection.ioloop.stop()

    def _connect_failed(self, reason: str) -> None:
        if reason not in self._reasons_logged:
            self._reasons_logged.add(reason)
            self.log.warning("%s: cannot connect to the broker: %s", self.name, reason)
        self.on_connect_error(reason)

    def _on_channel_closed(self, channel: Any, reason: BaseException) -> None:
        if channel is not self.channel:
            return
        self._lost(self._describe(reason))
        conn = self.connection
        if conn is not None and conn.is_open:
            conn.close()  # reconnect from scratch: the channel's state is gone

    def _on_closed(self, connection: SelectConnection, reason: BaseException) -> None:
        self._lost(self._describe(reason))
        connection.ioloop.stop()

    def _lost(self, reason: str) -> None:
        was = self.connected
        if was and not self._quiet_loss and self._failed_index is None:
            self._failed_index = self.last_index
            self._lost_at = time.monotonic()
        self.connected = False
        self.channel = None
        if was and not self._finishing:
            if reason not in self._reasons_logged:
                self._reasons_logged.add(reason)
                self.log.warning("%s: lost the broker: %s", self.name, reason)
            self.on_lost(reason)

    def _tick(self) -> None:
        conn = self.connection
        if conn is None or conn.is_closed:
            return
        if self.stop.is_set() and not self._finishing:
            self.finish()
            return
        if self._finishing and time.monotonic() - self._finish_at > CLOSE_WAIT_S:
            self.abandon("close not answered (paused broker)")  # a paused member never says close-ok
            return
        if self.connected:
            self.on_tick()
        conn.ioloop.call_later(self.tick_s, self._tick)

    @staticmethod
    def _describe(reason: BaseException | str) -> str:
        if isinstance(reason, str):
            return reason
        text = str(reason) or ""
        return f"{type(reason).__name__}{': ' + text if text else ''}"
