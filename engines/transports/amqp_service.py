"""Service driver over RabbitMQ: consume, hand batches to the handler, then reply, then ack.

Deliveries that arrive in one read of the socket are handled as one batch: the
handler commits them in one SQLite transaction (and runs the configured
crash); only then does the driver reply (request styles) and ack the whole
batch with one `basic_ack(multiple=True)`. A consumer killed between its
commit and its ack therefore leaves the batch unacked: RabbitMQ redelivers it
with the redelivered flag, and the idempotent consumer refuses the duplicates.
With `ack: auto` the broker forgets a message as soon as it sends it, so a
killed consumer loses what it held. prefetch bounds the unacked deliveries.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pika

from engines.transports import register, wire
from engines.transports.amqp_session import Session
from engines.transports.base import DUPLICATE, Inbound, ServiceContext

# Deliveries committed and acked together: acks per ~100 let RabbitMQ confirm
# persistent messages that are already consumed without waiting for its disk.
ACK_BATCH = 128

STYLES = ("notification", "publish-subscribe", "request-response", "async-request-response",
          "publish-async-responses")


class AmqpConsumer:
    """Consumes every queue one service has on one broker, through a reconnecting session."""

    def __init__(self, ctx: ServiceContext, inbound: Sequence[Inbound], ready: threading.Event) -> None:
        self.ctx, self.cfg = ctx, ctx.config
        self.specs = [dict(ib.channel or {}) for ib in inbound]
        self.queues = sorted({spec["consume"] for spec in self.specs})
        self.manual = self.cfg.ack != "auto"
        self.max_batch = min(ctx.max_batch(), ACK_BATCH)
        # (delivery tag, header or None if malformed, redelivered, properties), in tag order
        self.batch: list[tuple[int, Any, bool, Any]] = []
        self._flush_scheduled = False
        self._ready = ready
        self.session = Session(inbound[0].broker_url or "", self.specs, ctx.stop, ctx.log,
                               name=self.cfg.name, tick_s=0.05)
        self.session.on_ready = self._on_ready
        self.session.on_lost = self._on_lost

    def run(self) -> None:
        self.session.run()

    # -- session callbacks -----------------------------------------------------------
    def _on_ready(self, channel: Any) -> None:
        if self.manual:
            channel.basic_qos(prefetch_count=self.cfg.prefetch, callback=lambda _f: self._consume(channel))
        else:
            self._consume(channel)

    def _consume(self, channel: Any) -> None:
        waiting = set(self.queues)

        def consuming(queue: str) -> None:
            waiting.discard(queue)
            if not waiting:
                self._ready.set()

        for queue in self.queues:
            channel.basic_consume(queue, self._on_message, auto_ack=not self.manual,
                                  callback=lambda _f, q=queue: consuming(q))

    def _on_lost(self, _reason: str) -> None:
        # Unacked deliveries go back to the queue; the broker redelivers them flagged.
        self.batch.clear()  # delivery tags of the old channel mean nothing on the next one
        self.ctx.stats.count("connection_losses")

    # -- deliveries -------------------------------------------------------------------
    def _on_message(self, _channel: Any, method: Any, props: Any, body: bytes) -> None:
        try:
            header: tuple[int, ...] | None = wire.unpack(body)
        except wire.WireError:
            header = None
            self.ctx.stats.count("errors")
        self.batch.append((method.delivery_tag, header, method.redelivered, props))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.session.call_later(0, self._flush)

    def _flush(self) -> None:
        """Handle one batch, reply, ack it; then give the ioloop a turn to write the ack.

        pika writes only when the ioloop runs, so handling everything a read
        brought before returning would hold committed work unacked for as long:
        a kill then would redeliver (and duplicate) all of it.
        """
        self._flush_scheduled = False
        channel = self.session.channel
        if channel is None or not channel.is_open:
            self.batch.clear()
            return
        chunk, self.batch = self.batch[:self.max_batch], self.batch[self.max_batch:]
        if not chunk:
            return
        chunk = self._cut_for_crash(chunk)
        work = [item for item in chunk if item[1] is not None]
        if work:
            # plain tuples in Delivery's field order (client, seq, attempt, redelivered, ts_ns, keyed)
            deliveries = [(h[2], h[4], h[3], 1 if r else 0, h[5], True) for _t, h, r, _p in work]
            outcomes = self.ctx.handler.handle_batch(deliveries)  # commits; may crash as configured
            if self.cfg.reply:
                self._reply(channel, work, outcomes)
            if self.ctx.handler.reply_crash_due():  # configured crash: reply out, request never acked
                self.session.call_later(0, self.ctx.handler.crash_after_reply)  # after the ioloop writes
                return
        stats = self.ctx.stats
        stats.count("amqp_received", len(chunk))
        if self.manual and channel.is_open:
            channel.basic_ack(chunk[-1][0], multiple=True)
            stats.count("amqp_acked", len(chunk))
        if self.batch:
            self._flush_scheduled = True
            self.session.call_later(0, self._flush)

    def _cut_for_crash(self, chunk: list[tuple[int, Any, bool, Any]]) -> list[tuple[int, Any, bool, Any]]:
        """End the chunk before the message a configured crash names, so what comes before it is
        acked first and the crash after its commit redelivers that one message (Handler.room)."""
        work = [i for i, item in enumerate(chunk) if item[1] is not None]
        room = self.ctx.handler.room(len(work))
        if room >= len(work):
            return chunk
        end = work[room - 1] + 1
        self.batch[:0] = chunk[end:]
        return chunk[:end]

    def _reply(self, channel: Any, batch: list[tuple[int, Any, bool, Any]],
               outcomes: Sequence[int]) -> None:
        name = self.cfg.name
        sent = 0
        for (_tag, header, _redelivered, props), outcome in zip(batch, outcomes, strict=True):
            if not props.reply_to:
                continue
            flags = wire.FLAG_DUPLICATE if outcome == DUPLICATE else 0
            reply_props = pika.BasicProperties(correlation_id=props.correlation_id, app_id=name)
            channel.basic_publish("", props.reply_to, wire.reply_to(header, flags), reply_props)
            sent += 1
        if sent:
            self.ctx.stats.count("replies_sent", sent)


def run_service(ctx: ServiceContext, inbound: Sequence[Inbound]) -> None:
    """Consume every amqp stream of this service: one consumer (thread) per broker."""
    by_broker: dict[str, list[Inbound]] = {}
    for ib in inbound:
        by_broker.setdefault(ib.broker_url or "", []).append(ib)
    consumers = [(AmqpConsumer(ctx, streams, threading.Event())) for streams in by_broker.values()]
    threads = [threading.Thread(target=c.run, name=f"amqp:{ctx.config.name}:{i}", daemon=True)
               for i, c in enumerate(consumers[1:], 1)]
    for thread in threads:
        thread.start()

    def report_ready() -> None:
        for consumer in consumers:
            while not consumer._ready.wait(0.1):
                if ctx.stop.is_set():
                    return
        ctx.ready()

    threading.Thread(target=report_ready, name="amqp:ready", daemon=True).start()
    consumers[0].run()
    for thread in threads:
        thread.join(timeout=10)


for _style in STYLES:
    register("amqp", _style, "service", group="amqp")(run_service)
