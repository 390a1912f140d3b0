"""Client drivers over RabbitMQ for all five styles, on one reconnecting session.

- notification: default exchange -> the channel's queue (competing consumers)
- publish-subscribe: fanout/topic exchange -> one queue per subscriber
- request-response / async-request-response: reply_to (an exclusive queue, or
  RabbitMQ's direct reply-to with `reply_to: direct`) + correlation_id (the message's sequence number, the same on every attempt);
  in flight: 1 / `in_flight`; replies to unknown or repeated IDs are counted
  (late_replies, duplicate_replies) and dropped
- publish-async-responses: the exchange carries the request to every
  subscriber; replies are collected until `collect_ms`

Broker loss: unconfirmed publishes (and unanswered requests, whose reply
queue died with the connection) are in doubt; with `resend_in_doubt` they go
again after the reconnect with the same ID and the next attempt number.
Failed reconnects count as errors, so the error rate rises while the broker
is down and the send rate falls to zero.

Clustered broker (several URLs): the session fails over along the member
list; a publisher nack ("not taken", e.g. a quorum queue without a leader) is
resent on a fresh channel after the session's pause; and a publisher that
hears no confirm for `timeout_ms` drops the connection (a paused member
accepts TCP and never answers), so the in-doubt messages go again through
another member. Reconnects and failovers
are counted (client extras) and sent as events for the timeline.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from engines.transports import register, wire
from engines.transports.amqp_publisher import ConfirmWindow, Pending, Publisher
from engines.transports.amqp_session import Session
from engines.transports.base import ClientContext

CONFIRM_WINDOW = 1000  # publishes in flight awaiting confirms (PERFORMANCE.md: ~10x one-by-one)
CHUNK = 256  # publishes per ioloop turn at rate 0, so confirms and replies get read in between
STUCK_CONFIRMS = 3  # a publish unconfirmed for this many timeouts is in doubt, confirms or not

REQUEST_STYLES = ("request-response", "async-request-response")
DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"
COLLECT = "publish-async-responses"


class AmqpClient:
    """One client node's sending loop; every callback runs on the session's ioloop thread."""

    def __init__(self, ctx: ClientContext) -> None:
        cfg = ctx.config
        self.ctx, self.cfg, self.rec, self.pacer = ctx, cfg, ctx.recorder, ctx.pacer
        peer = ctx.peers[0]
        self.spec: dict[str, Any] = dict(peer.channel or {})
        self.url = peer.broker_url or ""
        self.request = cfg.style in REQUEST_STYLES
        self.collect = cfg.style == COLLECT
        self.replies = self.request or self.collect
        if self.replies:
            self.kind = wire.REQUEST if self.request else wire.PUBLISH
        else:
            self.kind = wire.PUBLISH if self.spec.get("publish") else wire.NOTIFY
        if cfg.style == "request-response":
            self.in_flight: int | None = 1
        elif self.replies:
            self.in_flight = cfg.in_flight
        else:
            self.in_flight = None
        self.window_size = max(CONFIRM_WINDOW, self.in_flight or 0)
        self.services = list(self.spec.get("services", ()))
        self.timeout_ns = cfg.timeout_ms * 1_000_000
        self.collect_ns = cfg.collect_ms * 1_000_000
        # seq -> [attempt, deadline_ns, ts_ns, peers_mask]
        self.outstanding: dict[int, list[int]] = {}
        self.resend: deque[tuple[int, int]] = deque()  # (seq, last attempt)
        self.publisher: Publisher | None = None
        self.window: ConfirmWindow | None = None
        self._pump_at: float | None = None
        self._heard_ns = time.monotonic_ns()  # the last confirm (or nack) from the broker
        # After the last send, a broker that stays away this long ends the client.
        give_up_s = max(5.0, cfg.timeout_ms * (cfg.retries + 1) / 1000)
        # declare: false publishes to what the consumers declared (nothing declared here)
        declared = [self.spec] if cfg.declare else []
        self.session = Session(self.url, declared, ctx.stop, ctx.log, name=cfg.name,
                               give_up_after=lambda: give_up_s if self.pacer.finished else None,
                               heartbeat_s=cfg.heartbeat_s)
        self.session.on_ready = self._ready
        self.session.on_lost = self._lost
        self.session.on_tick = self._tick
        self.session.on_connect_error = self._connect_error
        self.session.on_reconnect = self._reconnected

    # -- lifecycle ---------------------------------------------------------------
    def run(self) -> None:
        if self.session.run():
            return
        # The broker stayed away after the last send: give up what still waits for it.
        for seq, _attempt in self.resend:
            self.rec.gave_up(seq)
        for seq in self.outstanding:
            self.rec.gave_up(seq)
        self.ctx.log.warning("%s: broker unreachable; gave up %d in doubt",
                             self.cfg.name, len(self.resend) + len(self.outstanding))

    def _ready(self, channel: Any) -> None:
        self._heard_ns = time.monotonic_ns()
        self.window = ConfirmWindow(self.window_size) if self.cfg.confirms else None
        if not self.replies:
            self._start(channel, None)
            return

        def declared(frame: Any) -> None:
            queue = frame.method.queue
            channel.basic_consume(queue, self._on_reply, auto_ack=True,
                                  callback=lambda _f: self._start(channel, queue))

        if self.cfg.reply_to == "direct":  # consume the pseudo-queue (no-ack) before publishing
            channel.basic_consume(DIRECT_REPLY_TO, self._on_reply, auto_ack=True,
                                  callback=lambda _f: self._start(channel, DIRECT_REPLY_TO))
            return
        channel.queue_declare("", exclusive=True, auto_delete=True, callback=declared)

    def _start(self, channel: Any, reply_queue: str | None) -> None:
        if channel is not self.session.channel:
            return
        exchange = self.spec.get("exchange") or ""
        self.publisher = Publisher(
            channel, exchange, self.spec.get("routing_key", ""), self.kind, self.ctx.client_index,
            self.ctx.payload, self.cfg.persistent, self.cfg.mandatory, self.window,
            self._acked, self._nacked, self._returned, reply_to=reply_queue,
            expiration_ms=self.cfg.expiration_ms,
        )
        self._pump()

    def _lost(self, reason: str) -> None:
        # A channel the broker closed (e.g. 404: a publish to an exchange that does not exist)
        # is its own kind of error; the session reconnects either way.
        closed = "ChannelClosedByBroker" in reason
        self.rec.error(-1, "channel-closed" if closed else "connection")
        self.publisher = None
        doubt: list[tuple[int, int]] = []
        if self.window is not None:
            items = self.window.drain()
            if not self.replies:
                doubt += [(seq, attempt) for seq, attempt, _ts in items]
            elif self.collect:
                doubt += [(seq, attempt) for seq, attempt, _ts in items if seq in self.outstanding]
        if self.request:  # their reply queue is gone with the connection
            doubt += [(seq, entry[0]) for seq, entry in self.outstanding.items()]
            self.outstanding.clear()
        queued = len(self.resend)
        for seq, attempt in doubt:
            self.rec.in_doubt(seq)
            if self.cfg.resend_in_doubt and attempt < self.cfg.retries:
                self.resend.append((seq, attempt))
            elif self.cfg.resend_in_doubt:
                self.rec.gave_up(seq)
        if doubt:
            self.ctx.log.warning("%s: lost the broker with %d message(s) in doubt (sent, not confirmed); %s",
                                 self.cfg.name, len(doubt),
                                 f"{len(self.resend) - queued} will be resent once it is back"
                                 if self.cfg.resend_in_doubt else "resend_in_doubt is off: none is resent")

    def _connect_error(self, _reason: str) -> None:
        self.rec.error(-1, "connection")

    def _reconnected(self, failover: bool, index: int) -> None:
        self.rec.count("reconnects")
        if failover:
            self.rec.count("failovers")
        self.ctx.event("failover" if failover else "reconnect", member=index + 1,
                       after_s=self.session.last_outage_s,
                       in_doubt=len(self.resend))

    # -- sending -------------------------------------------------------------------
    def _room(self) -> int:
        room = self.window.room() if self.window is not None else CHUNK
        if self.in_flight is not None:
            room = min(room, self.in_flight - len(self.outstanding))
        return min(room, CHUNK)

    def _send(self, seq: int, attempt: int, ts_ns: int) -> None:
        self.publisher.publish(seq, attempt, ts_ns)  # type: ignore[union-attr]
        if self.request:
            self.outstanding[seq] = [attempt, ts_ns + self.timeout_ns, ts_ns, 0]
        elif self.collect:
            self.outstanding[seq] = [attempt, ts_ns + self.collect_ns, ts_ns, 0]

    def _pump(self) -> None:
        """Send what is due and fits the windows; re-arm itself while there is more."""
        if self.publisher is None or not self.session.connected:
            return
        room = self._room()
        resent: list[int] = []
        while self.resend and room > 0:
            seq, attempt = self.resend.popleft()
            self.rec.retry(seq)
            self._send(seq, attempt + 1, time.monotonic_ns())
            resent.append(seq)
            room -= 1
        if resent:
            self.ctx.log.info("%s: resent %d unconfirmed message(s), sequence %d to %d; %d still to resend",
                              self.cfg.name, len(resent), min(resent), max(resent), len(self.resend))
        if room <= 0:
            return
        wait = self.pacer.next_due_in()
        if wait > 0:
            self._schedule(wait)
            return
        seqs = self.pacer.take(room)
        if not seqs:
            self._check_done()
            return
        self.rec.sent_range(seqs.start, len(seqs))
        now = time.monotonic_ns()
        for seq in seqs:
            self._send(seq, 0, now)
        self._schedule(0.0)

    def _schedule(self, delay: float) -> None:
        at = time.monotonic() + delay
        if self._pump_at is not None and self._pump_at <= at:
            return
        self._pump_at = at

        def fire() -> None:
            if self._pump_at == at:
                self._pump_at = None
                self._pump()

        self.session.call_later(delay, fire)

    def _check_done(self) -> None:
        if not self.pacer.finished or self.resend or self.outstanding:
            return
        if self.window is not None and len(self.window):
            return
        self.session.finish()

    # -- broker callbacks -------------------------------------------------------------
    def _acked(self, item: Pending) -> None:
        self._heard_ns = time.monotonic_ns()
        seq, _attempt, ts_ns = item
        if self.replies:  # the broker has the request; the reply acknowledges it
            self.rec.confirmed(seq)
        else:
            self.rec.confirm(seq, ts_ns)
        if self.window is not None and self.window.room() * 2 >= self.window.size:
            self._schedule(0.0)

    def _nacked(self, item: Pending) -> None:
        self._heard_ns = time.monotonic_ns()
        seq, attempt, _ts = item
        self.rec.nack(seq)
        self.outstanding.pop(seq, None)
        if attempt >= self.cfg.retries:
            self.rec.gave_up(seq)
        else:
            self.resend.append((seq, attempt))
            if self.session.clustered and self.session.connected:
                # no leader right now: resend on a fresh channel, after the session's pause
                # before reconnecting (a timer on this connection would die with it)
                self.session.abandon("publish nacked (queue without leader)", member_failed=False)

    def _returned(self, seq: int) -> None:
        self.rec.returned(seq)
        if self.outstanding.pop(seq, None) is not None:
            self._schedule(0.0)

    def _on_reply(self, _channel: Any, _method: Any, props: Any, body: bytes) -> None:
        rec = self.rec
        try:
            header = wire.unpack(body)
            seq = int(props.correlation_id)
        except (wire.WireError, TypeError, ValueError):
            rec.error(-1, "malformed")
            return
        if header[0] != wire.REPLY or header[4] != seq or not 0 <= seq < rec.capacity:
            rec.error(-1, "malformed")
            return
        entry = self.outstanding.get(seq)
        peer = self.services.index(props.app_id) if props.app_id in self.services else -1
        if entry is None:
            if rec.is_acked(seq):
                rec.duplicate_reply(seq)
            else:
                rec.late_reply(seq)
            return
        if self.request:
            del self.outstanding[seq]
            rec.reply(seq, header[5], peer)
            self._schedule(0.0)
            return
        bit = 1 << peer if 0 <= peer < 62 else 0
        if bit and entry[3] & bit:
            rec.duplicate_reply(seq)
            return
        entry[3] |= bit
        rec.reply(seq, header[5], peer)

    # -- every tick -----------------------------------------------------------------------
    def _tick(self) -> None:
        now = time.monotonic_ns()
        if self.window is not None and not self.replies:
            for seq, _attempt, _ts in self.window.overdue(now - self.timeout_ns):
                self.rec.timeout(seq)
            oldest = self.window.oldest_ts()
            # a member that answers nothing (paused), not merely a slow one: no confirm at all
            # for timeout_ms while publishes wait
            # (or one publish left behind far longer: a channel opened while its queue had no
            # leader may never confirm what it took then)
            if (self.session.clustered and oldest is not None and now - oldest > self.timeout_ns
                    and (now - self._heard_ns > self.timeout_ns
                         or now - oldest > STUCK_CONFIRMS * self.timeout_ns)):
                self.session.abandon(f"no confirm within {self.cfg.timeout_ms} ms")
                return
        if self.outstanding:
            self._expire(now)
        self._pump()
        self._check_done()

    def _expire(self, now: int) -> None:
        expired = [(seq, e) for seq, e in self.outstanding.items() if e[1] <= now]
        for seq, entry in expired:
            del self.outstanding[seq]
            if self.collect:
                if not entry[3]:
                    self.rec.timeout(seq)
                continue
            self.rec.timeout(seq)
            if entry[0] < self.cfg.retries:
                self.resend.append((seq, entry[0]))
            else:
                self.rec.gave_up(seq)


def run_client(ctx: ClientContext) -> None:
    AmqpClient(ctx).run()


def _confirms(config: Any) -> bool:
    return bool(config.get("confirms", True))


for _style in ("notification", "publish-subscribe"):
    register("amqp", _style, "client", acknowledges=_confirms)(run_client)
for _style in (*REQUEST_STYLES, COLLECT):
    register("amqp", _style, "client")(run_client)
