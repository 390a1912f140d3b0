"""Service driver over RabbitMQ: consume, hand batches to the handler, then reply, then ack.

Deliveries that arrive in one read of the socket are handled as one batch: the
handler commits them in one SQLite transaction (and runs the configured
crash); only then does the driver reply (request styles) and ack the whole
batch with one `basic_ack(multiple=True)`. A consumer killed between its
commit and its ack therefore leaves the batch unacked: RabbitMQ redelivers it
with the redelivered flag, and the idempotent consumer refuses the duplicates.
With `ack: auto` the broker forgets a message as soon as it sends it, so a
killed consumer loses what it held. prefetch bounds the unacked deliveries;
`ack: never` commits and never acks, so it holds its prefetch for ever.

The work runs on the connection's I/O loop, like a pika BlockingConnection
callback: work longer than two heartbeats starves them, the broker drops the
connection and redelivers. `handler_thread` runs it in a thread of its own and
settles (reply, ack) back on the loop: the fix.

A service may reject deliveries instead of processing them (`reject`: a
fraction, every Nth, or the messages that fail): basic.reject, with or
without requeue, before the batch's ack; the queue then drops, dead-letters
or redelivers them. Dead letters arrive with RabbitMQ's `x-death` header,
counted by its latest reason (rejected, expired, maxlen, delivery_limit).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from typing import Any

import pika

from engines.transports import register, wire
from engines.transports.amqp_session import Session
from engines.transports.base import CALL_FAILED, DUPLICATE, Inbound, ServiceContext
from engines.transports.stream_reader import StreamReader

# Deliveries committed and acked together: acks per ~100 let RabbitMQ confirm
# persistent messages that are already consumed without waiting for its disk.
ACK_BATCH = 128
ACK_WRITE_S = 0.1  # before a crash-named message: the previous ack's time to reach the socket
FAILED_PAUSE_S = 0.05  # a batch whose every call downstream failed goes back after this pause
WATCH_S = 5.0  # clustered broker: how often a consumer checks that its channel still works

Batch = list[tuple[int, Any, bool, Any]]  # (delivery tag, header, redelivered, properties)

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
        self._seen = 0  # deliveries of this life (reject: nth)
        self._busy = False  # handler_thread: a batch is being handled
        self.streams = {q["name"] for spec in self.specs for q in spec.get("queues", ())
                        if q.get("queue_type") == "stream" and q["name"] in self.queues}
        self._queue_of_tag: dict[str, str] = {}
        self._tag_of_queue: dict[str, str] = {}  # the current consumer tag of each queue
        self._stream_of: dict[int, str] = {}  # delivery tag -> stream queue, until acked
        self.reader = StreamReader(ctx.node_dir, self.streams, self.cfg.stream_offset, ctx.stats)
        self._rng = random.Random()
        self.session = Session(inbound[0].broker_url or "", self.specs, ctx.stop, ctx.log,
                               name=self.cfg.name, tick_s=0.05, heartbeat_s=self.cfg.heartbeat_s)
        self.session.on_ready = self._on_ready
        self.session.on_lost = self._on_lost
        self.session.on_reconnect = self._on_reconnect
        self.session.on_tick = self._tick
        self._received = 0  # deliveries since the last watchdog check
        self._checked_at = 0.0
        self._probe: list[Any] | None = None  # a passive declare waiting for its reply

    def run(self) -> None:
        self.session.run()

    # -- session callbacks -----------------------------------------------------------
    def _on_ready(self, channel: Any) -> None:
        if self.cfg.reply_mandatory:
            channel.add_on_return_callback(self._reply_returned)
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
            if queue in self.streams:  # after the stored offset, or as configured (a time: later)
                self._attach(channel, queue, None, lambda _f, q=queue: consuming(q))
                continue
            tag = channel.basic_consume(queue, self._on_message, auto_ack=not self.manual,
                                        callback=lambda _f, q=queue: consuming(q))
            self._queue_of_tag[tag] = queue

    # -- streams (engines.transports.stream_reader) ---------------------------------------
    def _attach(self, channel: Any, queue: str, offset: str | None, done: Any = None) -> None:
        """Consume a stream from `offset`; a time the run's clock has not reached is retried."""
        if channel is not self.session.channel or not channel.is_open:
            return  # a new channel attaches on its own
        arg = self.reader.argument(queue, offset)
        if arg is None:
            if done is not None:
                done(None)  # ready: a stream keeps what comes until the consumer attaches
            self.session.call_later(0.1, lambda: self._attach(channel, queue, offset))
            return
        if offset is not None:  # a re-read: what it had taken so far comes again
            self.reader.rereading(queue)
        tag = channel.basic_consume(queue, self._on_message, auto_ack=not self.manual,
                                    arguments={"x-stream-offset": arg}, callback=done)
        self._queue_of_tag[tag] = queue
        self._tag_of_queue[queue] = tag
        self.ctx.event("stream-attach", queue=queue, offset=offset or self.cfg.stream_offset)

    def _tick(self) -> None:
        self._watch()
        if not self.streams:
            return
        offset = self.reader.poll()
        channel = self.session.channel
        if offset is None or channel is None or not channel.is_open:
            return
        self.ctx.event("stream-reread", offset=offset)
        for queue in sorted(self.streams):
            tag = self._tag_of_queue.pop(queue, None)
            if tag is None:
                self._attach(channel, queue, offset)
                continue
            # consume again once the old consumer is gone (CancelOk); what it still had in
            # flight is handled as usual: pika would reject it, and a stream refuses a reject
            # by closing the connection (NOT_IMPLEMENTED)
            channel.basic_cancel(tag, callback=lambda _f, q=queue: self._attach(channel, q, offset))
            channel._cancelled.discard(tag)  # noqa: SLF001 - see above

    def _store_offsets(self, kept: Batch) -> None:
        """After the ack: the offset of the last message acked, per stream (a consumer killed
        between its commit and this store reads those messages again when it restarts)."""
        last: dict[str, int] = {}
        for _tag, _header, _redelivered, props in kept:
            offset = (props.headers or {}).get("x-stream-offset") if props.headers else None
            queue = self._stream_of.pop(_tag, None)
            if offset is not None and queue is not None:
                last[queue] = max(int(offset), last.get(queue, -1))
        self.reader.store(last)

    def _on_lost(self, _reason: str) -> None:
        self._probe, self._checked_at = None, time.monotonic()
        # Unacked deliveries go back to the queue; the broker redelivers them flagged.
        self.batch.clear()  # delivery tags of the old channel mean nothing on the next one
        self._stream_of.clear()
        self._busy = False  # a batch still in its thread settles nothing on the next channel
        self.ctx.stats.count("connection_losses")

    def _watch(self) -> None:
        """Clustered broker: every WATCH_S, a passive declare of each queue must answer, and a
        queue with ready messages must have given us some; otherwise the channel is stuck (its
        member paused, or it was opened while the queue had no leader): reconnect elsewhere."""
        if not self.session.clustered:
            return
        now = time.monotonic()
        if now - self._checked_at < WATCH_S:
            return
        channel = self.session.channel
        if self._probe is not None:
            replies, self._probe = self._probe, None
            ready = sum(r.method.message_count for r in replies)
            if len(replies) < len(self.queues) or (ready and not self._received and not self.batch):
                self.session.abandon("consumer stuck: no answer or no deliveries from a full queue")
                return
        self._checked_at, self._received = now, 0
        probe: list[Any] = []
        self._probe = probe
        for queue in self.queues:
            channel.queue_declare(queue, passive=True, callback=probe.append)

    def _on_reconnect(self, failover: bool, index: int) -> None:
        self.ctx.stats.count("reconnects")
        if failover:
            self.ctx.stats.count("failovers")
        self.ctx.event("failover" if failover else "reconnect", member=index + 1,
                       after_s=self.session.last_outage_s)

    # -- deliveries -------------------------------------------------------------------
    def _on_message(self, _channel: Any, method: Any, props: Any, body: bytes) -> None:
        try:
            header: tuple[int, ...] | None = wire.unpack(body)
        except wire.WireError:
            header = None
            self.ctx.stats.count("errors")
        self._received += 1
        self.batch.append((method.delivery_tag, header, method.redelivered, props))
        if self.streams:
            queue = self._queue_of_tag.get(method.consumer_tag)
            if queue is not None and queue in self.streams:
                self._stream_of[method.delivery_tag] = queue
                self.reader.delivered(queue, props)
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
        if self._busy:
            return  # a batch is being handled in its thread; settling it flushes again
        channel = self.session.channel
        if channel is None or not channel.is_open:
            self.batch.clear()
            return
        chunk, self.batch = self.batch[:self.max_batch], self.batch[self.max_batch:]
        if not chunk:
            return
        chunk = self._cut_for_crash(chunk)
        rejected = [item for item in chunk if item[1] is not None and self._rejects(item[1])]
        work = [item for item in chunk if item[1] is not None and item not in rejected] \
            if rejected else [item for item in chunk if item[1] is not None]
        # plain tuples in Delivery's field order (client, seq, attempt, redelivered, ts_ns, keyed)
        deliveries = [(h[2], h[4], h[3], 1 if r else 0, h[5], True) for _t, h, r, _p in work]
        if self.cfg.handler_thread and deliveries:
            self._handle_in_thread(channel, chunk, work, rejected, deliveries)
            return
        outcomes = self.ctx.handler.handle_batch(deliveries) if deliveries else []  # may crash
        self._settle(channel, chunk, work, rejected, outcomes)

    def _handle_in_thread(self, channel: Any, chunk: Batch, work: Batch, rejected: Batch,
                          deliveries: list[tuple[int, int, int, int, int, bool]]) -> None:
        """The work in a thread of its own: the I/O loop goes on (heartbeats), then settles."""
        conn = self.session.connection
        if conn is None:
            return  # no connection: its deliveries come back
        self._busy = True

        def job() -> None:
            try:
                outcomes = self.ctx.handler.handle_batch(deliveries)
            except Exception:  # noqa: BLE001 - reported; the node stops as the driver would
                self.ctx.log.exception("handling a batch failed")
                self.ctx.stop.set()
                return
            try:
                conn.ioloop.add_callback_threadsafe(
                    lambda: self._settle(channel, chunk, work, rejected, outcomes))
            except Exception:  # noqa: BLE001 - the connection is gone: its deliveries come back
                self._busy = False

        threading.Thread(target=job, name="amqp:work", daemon=True).start()

    def _settle(self, channel: Any, chunk: Batch, work: Batch, rejected: Batch,
                outcomes: Sequence[int]) -> None:
        """Reply, reject and ack a handled batch on the I/O loop; then go on with the next."""
        self._busy = False
        if channel is not self.session.channel or not channel.is_open:
            return  # the channel died while the work ran: the broker redelivers the batch
        if work and self.cfg.reply:
            self._reply(channel, work, outcomes)
        if self.ctx.handler.reply_crash_due():  # configured crash: reply out, request never acked
            self.session.call_later(0, self.ctx.handler.crash_after_reply)  # after the ioloop writes
            return
        stats = self.ctx.stats
        stats.count("amqp_received", len(chunk))
        again = sum(1 for item in chunk if item[2])
        if again:  # every redelivery, processed or not (a poison message's count shows here)
            stats.count("amqp_redelivered", again)
        self._count_dead_letters(work)
        if rejected:
            for tag, *_rest in rejected:
                channel.basic_reject(tag, requeue=self.cfg.requeue)
            stats.count("requeued" if self.cfg.requeue else "rejected", len(rejected))
        failed = [item for item, o in zip(work, outcomes, strict=True) if o == CALL_FAILED] \
            if self.manual and len(outcomes) == len(work) and CALL_FAILED in outcomes else []
        if failed:  # its call downstream failed: back to the queue, redelivered later
            if len(failed) == len(work):
                time.sleep(FAILED_PAUSE_S)  # a breaker failing fast must not spin the queue
            for tag, *_rest in failed:
                channel.basic_nack(tag, requeue=True)
            stats.count("requeued_call_failed", len(failed))
            rejected = rejected + failed
        kept = [item for item in chunk if item not in rejected] if rejected else chunk
        if self.manual and kept and self.cfg.ack != "never":
            channel.basic_ack(kept[-1][0], multiple=True)  # rejected tags are settled already
            stats.count("amqp_acked", len(kept))
            if self.streams:
                self._store_offsets(kept)
        if self.batch and not self._flush_scheduled:
            self._flush_scheduled = True
            # the message a configured crash names comes next: let the I/O loop write the ack just
            # given first (pika buffers it until the socket polls writable), or the crash takes it
            # along and the whole acked batch comes back as duplicates
            self.session.call_later(ACK_WRITE_S if self.ctx.handler.room(1 << 30) == 1 else 0, self._flush)

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

    def _reply_returned(self, *_args: Any) -> None:
        """The broker could not route a reply: its requester's queue or channel is gone."""
        self.ctx.stats.count("replies_returned")

    def _rejects(self, header: tuple[int, ...]) -> bool:
        """Whether this delivery is rejected rather than processed (the `reject` setting)."""
        mode = self.cfg.reject
        if mode == "never" or not self.manual:
            return False
        self._seen += 1
        if mode == "fraction":
            return self._rng.random() < self.cfg.reject_fraction
        if mode == "nth":
            return self._seen % self.cfg.reject_nth == 0
        every = self.cfg.fail_every
        return mode == "failed" and every is not None and (header[4] + 1) % every == 0

    def _count_dead_letters(self, work: list[tuple[int, Any, bool, Any]]) -> None:
        """Committed dead letters, by the reason of their latest death (x-death[0])."""
        stats = self.ctx.stats
        for _tag, _header, _redelivered, props in work:
            deaths = (props.headers or {}).get("x-death") if props.headers else None
            if not deaths:
                continue
            reason = deaths[0].get("reason", "unknown")
            reason = reason.decode() if isinstance(reason, bytes) else str(reason)
            stats.count("dead_lettered")
            stats.count(f"dead_lettered_{reason}")
            stats.count("x_death_count", int(deaths[0].get("count", 1)))

    def _reply(self, channel: Any, batch: list[tuple[int, Any, bool, Any]],
               outcomes: Sequence[int]) -> None:
        name = self.cfg.name
        sent = 0
        for (_tag, header, _redelivered, props), outcome in zip(batch, outcomes, strict=True):
            if not props.reply_to or outcome == CALL_FAILED:
                continue
            flags = wire.FLAG_DUPLICATE if outcome == DUPLICATE else 0
            reply_props = pika.BasicProperties(correlation_id=props.correlation_id, app_id=name)
            channel.basic_publish("", props.reply_to, wire.reply_to(header, flags), reply_props,
                                  mandatory=self.cfg.reply_mandatory)
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
