"""ZeroMQ one-to-many: PUB/SUB, and publish/async responses (PUB out, replies to a ROUTER).

The publisher binds an XPUB socket: it sees each subscription arrive, so it
waits (bounded) for the subscribers that join on time before it publishes,
the zguide's cure for the slow joiner. Only the lab's own subscribers count:
besides everything (b""), each subscribes to a join topic derived from the
run's secret and the publisher's index, which no published frame matches.
Anything else on the port (a stranger's SUB, or noise, which libzmq takes
for a ZMTP 1.0 peer and answers with a subscribe-to-everything) is ignored.
A subscriber with `join_after_ms` connects late (counted from the run clock's zero)
and misses what came before; a subscriber slower than the
publisher fills its high-water mark and then loses messages, while the
publisher never blocks and never hears of it. One message per frame here, so
the high-water mark counts messages.

Publish/async responses: each service replies through a DEALER to the
client's ROUTER; the client collects the replies to each message for
`collect_ms`. A window that closes without every subscriber's reply counts
as a timeout; replies after it are late and not counted as replies.
"""

from __future__ import annotations

import collections
import hashlib
import time

import zmq

from engines.transports import register, wire
from engines.transports._zmq import (
    TICK_MS,
    Accept,
    Waiter,
    close_flushing,
    context,
    drain,
    listener,
    receive,
    replies,
    responder,
    responder_of,
    send_until_stopped,
    socket,
)
from engines.transports.base import (
    CALL_FAILED,
    DUPLICATE,
    ZMQ_PUB,
    ZMQ_REPLIES,
    ZMQ_SUB,
    ClientContext,
    Inbound,
    ServiceContext,
)

JOIN_WAIT_S = 15.0


def join_topic(run_token: str | None, client_index: int) -> bytes:
    """The subscription that says "a subscriber of this run joined this publisher".

    Starts with a zero byte: published frames start with their kind (3), so none matches."""
    digest = hashlib.sha256(f"{run_token or ''}:join:{client_index}".encode()).digest()
    return b"\x00lab-join:" + digest[:16]


def _publisher(ctx: ClientContext, zctx: zmq.Context[zmq.Socket[bytes]]) -> zmq.Socket[bytes]:
    hwm = next((p.link_hwm for p in ctx.peers if p.link_hwm is not None), 1000)
    sock = socket(zctx, zmq.XPUB, SNDHWM=hwm, XPUB_VERBOSE=1)
    if ZMQ_PUB in ctx.listen:
        sock.bind(ctx.listen[ZMQ_PUB])
    else:  # zmq_binds: service: the subscribers bind, the publisher connects to each
        for peer in ctx.peers:
            sock.connect(peer.endpoints[ZMQ_SUB])
    return sock


def _await_subscribers(sock: zmq.Socket[bytes], ctx: ClientContext) -> int:
    """Wait until the on-time subscribers have subscribed (bounded); return how many did."""
    joined = 0
    mine = b"\x01" + join_topic(ctx.run_token, ctx.client_index)
    deadline = time.monotonic() + JOIN_WAIT_S
    while joined < ctx.expect_subscribers and time.monotonic() < deadline and not ctx.stop.is_set():
        if sock.poll(TICK_MS, zmq.POLLIN):
            if sock.recv() == mine:
                joined += 1
    if joined < ctx.expect_subscribers:
        ctx.log.warning("only %d of %d subscribers joined within %.0f s; publishing anyway",
                        joined, ctx.expect_subscribers, JOIN_WAIT_S)
    ctx.recorder.count("subscribers_joined", joined)
    return joined


def _read_subscriptions(sock: zmq.Socket[bytes], ctx: ClientContext) -> None:
    mine = b"\x01" + join_topic(ctx.run_token, ctx.client_index)
    for parts in drain(sock, 100):
        if parts[-1] == mine:
            ctx.recorder.count("subscribers_joined")


@register("zmq", "publish-subscribe", "client", listens=(ZMQ_PUB,), acknowledges=lambda c: False)
def run_pub(ctx: ClientContext) -> None:
    rec, pacer = ctx.recorder, ctx.pacer
    zctx = context()
    sock = _publisher(ctx, zctx)
    ci, payload = ctx.client_index, ctx.payload
    try:
        if ctx.config.wait_for_subscribers:
            _await_subscribers(sock, ctx)
        while True:
            seqs = pacer.take(1)
            if not seqs:
                return
            seq = seqs[0]
            rec.sent(seq)
            sock.send(wire.pack(wire.PUBLISH, ci, seq, 0, time.monotonic_ns(), payload))  # never blocks
            if seq % 256 == 0:
                _read_subscriptions(sock, ctx)
    finally:
        close_flushing(sock, ctx.config.linger_ms)
        zctx.term()


@register("zmq", "publish-async-responses", "client", listens=(ZMQ_PUB, ZMQ_REPLIES))
def run_pub_collect(ctx: ClientContext) -> None:
    cfg, rec, pacer = ctx.config, ctx.recorder, ctx.pacer
    zctx = context()
    pub = _publisher(ctx, zctx)
    router = socket(zctx, zmq.ROUTER, RCVHWM=0)
    router.bind(ctx.listen[ZMQ_REPLIES])
    waiter = Waiter(router)
    window_ns = cfg.collect_ms * 1_000_000
    expected = len(ctx.peers)
    open_windows: dict[int, int] = {}  # seq -> replies so far
    closing: collections.deque[tuple[int, int]] = collections.deque()  # (deadline, seq)
    ci, payload = ctx.client_index, ctx.payload
    try:
        if ctx.config.wait_for_subscribers:
            _await_subscribers(pub, ctx)
        while not ctx.stop.is_set():
            if pacer.finished and not open_windows:
                return
            if not pacer.finished and pacer.next_due_in() <= 0:
                for seq in pacer.take(64):
                    rec.sent(seq)
                    now = time.monotonic_ns()
                    pub.send(wire.pack(wire.PUBLISH, ci, seq, 0, now, payload))
                    open_windows[seq] = 0
                    closing.append((now + window_ns, seq))
            wait_ms = TICK_MS if pacer.finished else min(TICK_MS, pacer.next_due_in() * 1000)
            if closing:
                wait_ms = min(wait_ms, max(0, (closing[0][0] - time.monotonic_ns()) / 1e6))
            if waiter.poll(wait_ms):
                for header, frame in replies(router, rec):
                    seq = header[4]
                    if seq in open_windows:
                        open_windows[seq] += 1
                        rec.reply(seq, header[5], responder_of(header, frame))
                    else:
                        rec.late_reply(seq)
            now = time.monotonic_ns()
            while closing and closing[0][0] <= now:
                _, seq = closing.popleft()
                if open_windows.pop(seq, expected) < expected:
                    rec.timeout(seq)
            _read_subscriptions(pub, ctx)
    finally:
        pub.close()
        router.close()
        zctx.term()


def _subscriber(ctx: ServiceContext, zctx: zmq.Context[zmq.Socket[bytes]], inbound: list[Inbound]) -> zmq.Socket[bytes]:
    sock = listener(zctx, zmq.SUB, RCVHWM=ctx.config.hwm)
    if getattr(ctx.config, "subscribe", True):  # a SUB without one receives nothing (libzmq's default)
        sock.setsockopt(zmq.SUBSCRIBE, b"")
        for ib in inbound:  # the join topics go to every publisher; each counts only its own
            sock.setsockopt(zmq.SUBSCRIBE, join_topic(ctx.run_token, ib.client_index))
    if ZMQ_SUB in getattr(ctx, "listen", {}):  # zmq_binds: service
        sock.bind(ctx.listen[ZMQ_SUB])
    for ib in inbound:
        if ZMQ_PUB in ib.publisher:
            sock.connect(ib.publisher[ZMQ_PUB])
    return sock


@register("zmq", "publish-subscribe", "service", group="zmq-sub")
def run_sub(ctx: ServiceContext, inbound: list[Inbound]) -> None:
    zctx = context()
    sock = _subscriber(ctx, zctx, inbound)
    accept = Accept(wire.PUBLISH, [ib.client_index for ib in inbound])
    ctx.ready()
    max_batch = ctx.max_batch()
    try:
        while not ctx.stop.is_set():
            batch = receive(sock, max_batch, accept=accept, wait=True)
            if batch.bad:
                ctx.stats.count("errors", batch.bad)
            if batch.items:
                ctx.handler.handle_batch(batch.items)
    finally:
        sock.close()
        zctx.term()


@register("zmq", "publish-async-responses", "service", group="zmq-sub-reply")
def run_sub_reply(ctx: ServiceContext, inbound: list[Inbound]) -> None:
    zctx = context()
    sub = _subscriber(ctx, zctx, inbound)
    dealers: dict[int, tuple[zmq.Socket[bytes], bytes]] = {}
    for ib in inbound:
        dealer = socket(zctx, zmq.DEALER, SNDHWM=0)
        dealer.connect(ib.publisher[ZMQ_REPLIES])
        dealers[ib.client_index] = (dealer, responder(ib.peer_index))
    accept = Accept(wire.PUBLISH, dealers)
    ctx.ready()
    max_batch = ctx.max_batch()
    try:
        while not ctx.stop.is_set():
            batch = receive(sub, max_batch, accept=accept, wait=True)
            if batch.bad:
                ctx.stats.count("errors", batch.bad)
            if not batch.items:
                continue
            outcomes = ctx.handler.handle_batch(batch.items)
            if not ctx.config.reply:
                continue
            for h, outcome in zip(batch.heads, outcomes, strict=True):
                target = dealers.get(h[2])
                if target is None or outcome == CALL_FAILED:  # its call downstream failed: no answer
                    continue
                flags = wire.FLAG_DUPLICATE if outcome == DUPLICATE else 0
                send_until_stopped(target[0], wire.reply_to(h, flags, target[1]), ctx.stop)
            ctx.stats.count("replies_sent", len(outcomes))
    finally:
        sub.close()
        for dealer, _ in dealers.values():
            dealer.close()
        zctx.term()
