"""ZeroMQ request/response: REQ with Lazy Pirate (or plain REQ), DEALER with many in flight, one ROUTER.

The service side is a ROUTER for both client kinds: it takes whatever has
arrived from every client, commits it as one batch and replies to each
(envelope [identity, b"", body], which REQ expects and DEALER clients mimic).

Lazy Pirate (the zguide's reliable REQ): poll with a timeout; on timeout close
the socket with LINGER=0 (a REQ socket is stuck after an unanswered send),
open a new one, resend the same message ID; after `retries` give up with a
clear error. A plain REQ (`lazy_pirate: false`) has none of this: when the
service dies mid-request it waits forever, which is the point it shows.
"""

from __future__ import annotations

import collections
import time

import zmq

from engines.transports import register, wire
from engines.transports._zmq import (
    TICK_MS,
    Accept,
    Waiter,
    context,
    heartbeats,
    listener,
    receive,
    replies,
    responder,
    responder_of,
    socket,
)
from engines.transports.base import (
    CALL_FAILED,
    DUPLICATE,
    ZMQ_ROUTER,
    ClientContext,
    GiveUp,
    Inbound,
    ServiceContext,
)
from engines.transports.roles import Pacer


def _wait_reply(waiter: Waiter, ctx: ClientContext, timeout_ms: float | None) -> bytes | None:
    """The reply, or None on timeout (timeout None: wait until stopped, like a plain REQ)."""
    if timeout_ms is not None and timeout_ms <= TICK_MS:  # one blocking receive
        return None if ctx.stop.is_set() else waiter.recv(timeout_ms)
    deadline = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000.0
    while not ctx.stop.is_set():
        wait = TICK_MS if deadline is None else min(TICK_MS, max(0.0, deadline - time.monotonic()) * 1000)
        frame = waiter.recv(wait)
        if frame is not None:
            return frame
        if deadline is not None and time.monotonic() >= deadline:
            return None
    return None


@register("zmq", "request-response", "client")
def run_req(ctx: ClientContext) -> None:
    cfg, rec = ctx.config, ctx.recorder
    zctx = context()
    endpoints = [p.endpoints[ZMQ_ROUTER] for p in ctx.peers]

    def open_socket() -> zmq.Socket[bytes]:
        sock = socket(zctx, zmq.REQ, REQ_RELAXED=int(cfg.req_relaxed), REQ_CORRELATE=int(cfg.req_correlate),
                      **heartbeats(cfg))
        for endpoint in endpoints:
            sock.connect(endpoint)
        return sock

    sock = open_socket()
    waiter = Waiter(sock)
    try:
        while True:
            seqs = ctx.pacer.take(1)
            if not seqs:
                return
            seq, attempt = seqs[0], 0
            rec.sent(seq)
            while True:
                frame: bytes | None = None
                try:
                    sock.send(wire.pack(wire.REQUEST, ctx.client_index, seq, attempt,
                                        time.monotonic_ns(), ctx.payload))
                except zmq.ZMQError as exc:
                    if exc.errno != zmq.EFSM:
                        raise
                    # a plain REQ refuses a second send before its reply: counted, then it is
                    # stuck on the request it already sent, waiting for that reply
                    rec.error(seq, "other")
                    rec.count("req_efsm")
                    ctx.log.warning("plain REQ: resend of %s:%d refused (EFSM); waiting for the reply",
                                    cfg.name, seq)
                    frame = _wait_reply(waiter, ctx, None)
                else:
                    if not cfg.lazy_pirate and cfg.req_resend:
                        frame = _wait_reply(waiter, ctx, cfg.timeout_ms)
                        if frame is None and not ctx.stop.is_set():  # resend on the same socket
                            rec.timeout(seq)
                            if attempt >= cfg.retries:
                                rec.gave_up(seq)
                                raise GiveUp(f"no reply to {cfg.name}:{seq} after {cfg.retries} resends")
                            attempt += 1
                            rec.retry(seq)
                            continue
                    elif not cfg.lazy_pirate:
                        frame = _wait_reply(waiter, ctx, cfg.timeout_ms)
                        if frame is None and not ctx.stop.is_set():
                            ctx.log.warning("plain REQ: no reply to %s:%d after %d ms; it has no timeout "
                                            "and no retry, so it waits (hangs) until the run stops",
                                            cfg.name, seq, cfg.timeout_ms)
                            frame = _wait_reply(waiter, ctx, None)
                    else:
                        frame = _wait_reply(waiter, ctx, cfg.timeout_ms)
                if ctx.stop.is_set() and frame is None:
                    return
                if frame is not None:
                    header = wire.unpack(frame)
                    if header[4] == seq:
                        if header[3] != attempt:  # REQ_RELAXED without REQ_CORRELATE: the reply to
                            rec.count("stale_replies")  # an abandoned attempt passed for this one's
                        rec.reply(seq, header[5], responder_of(header, frame))
                    else:
                        rec.error(seq, "malformed")
                    break
                rec.timeout(seq)
                sock.close()  # LINGER=0: the unanswered request is dropped with the socket
                sock = open_socket()
                waiter = Waiter(sock)
                if attempt >= cfg.retries:
                    rec.gave_up(seq)
                    raise GiveUp(f"no reply to {cfg.name}:{seq} after {cfg.retries} retries of "
                                 f"{cfg.timeout_ms} ms: the service seems to be down; abandoning")
                attempt += 1
                rec.retry(seq)
                ctx.log.warning("Lazy Pirate: no reply to %s:%d within %d ms; reopened the socket, "
                                "resending (retry %d of %d)", cfg.name, seq, cfg.timeout_ms, attempt, cfg.retries)
    finally:
        sock.close()
        zctx.term()


@register("zmq", "async-request-response", "client")
def run_dealer(ctx: ClientContext) -> None:
    """Up to `in_flight` requests outstanding, replies matched by sequence, timeouts resent."""
    cfg, rec, pacer = ctx.config, ctx.recorder, ctx.pacer
    zctx = context()
    sock = socket(zctx, zmq.DEALER, IMMEDIATE=int(cfg.immediate), SNDHWM=cfg.in_flight * 2 + 100,
                  **heartbeats(cfg))
    for peer in ctx.peers:
        sock.connect(peer.endpoints[ZMQ_ROUTER])
    timeout_ns = cfg.timeout_ms * 1_000_000
    waiter = Waiter(sock)
    outstanding: dict[int, int] = {}  # seq -> attempt in flight
    deadlines: collections.deque[tuple[int, int, int]] = collections.deque()  # (deadline, seq, attempt)
    send = sock.send
    ci, payload = ctx.client_index, ctx.payload

    def transmit(seq: int, attempt: int) -> None:
        now = time.monotonic_ns()
        try:  # no connected service: the request is not sent and will time out
            send(b"", _MORE)  # [empty delimiter, body], as send_multipart would, with int flags
            send(wire.pack(wire.REQUEST, ci, seq, attempt, now, payload), _LAST)
        except zmq.Again:
            pass
        outstanding[seq] = attempt
        deadlines.append((now + timeout_ns, seq, attempt))

    try:
        if cfg.immediate:
            _await_connection(sock, ctx)
        while not ctx.stop.is_set():
            room = cfg.in_flight - len(outstanding)
            finished = pacer.finished
            if finished and not outstanding:
                return
            if room > 0 and not finished:
                seqs = pacer.take(room) if pacer.rate <= 0 else _due(pacer, room)
                for seq in seqs:
                    rec.sent(seq)
                    transmit(seq, 0)
            wait_ms = TICK_MS
            if deadlines:
                wait_ms = min(wait_ms, max(0, (deadlines[0][0] - time.monotonic_ns()) // 1_000_000))
            if room > 0 and not pacer.finished:
                wait_ms = min(wait_ms, int(pacer.next_due_in() * 1000))
            if waiter.poll(wait_ms):
                for header, frame in replies(sock, rec):
                    seq = header[4]
                    if outstanding.pop(seq, None) is None:
                        rec.duplicate_reply(seq)  # answer to an attempt already answered or abandoned
                        continue
                    rec.reply(seq, header[5], responder_of(header, frame))
            now = time.monotonic_ns()
            while deadlines and deadlines[0][0] <= now:
                _, seq, attempt = deadlines.popleft()
                if outstanding.get(seq) != attempt:
                    continue  # answered, or a later attempt is in flight
                rec.timeout(seq)
                if attempt >= cfg.retries:
                    del outstanding[seq]
                    rec.gave_up(seq)
                    continue
                rec.retry(seq)
                transmit(seq, attempt + 1)
    finally:
        sock.close()
        zctx.term()


def _await_connection(sock: zmq.Socket[bytes], ctx: ClientContext, limit_s: float = 10.0) -> None:
    """With IMMEDIATE=1 nothing can be sent before a service is connected: wait for one (bounded),
    so the first burst is not dropped by a handshake still under way."""
    deadline = time.monotonic() + limit_s
    waiter = Waiter(sock, zmq.POLLOUT)
    while not ctx.stop.is_set() and time.monotonic() < deadline:
        if waiter.poll(TICK_MS):
            return
    ctx.log.warning("no service connected within %.0f s; sending anyway", limit_s)


def _due(pacer: Pacer, room: int) -> range:
    """Sequence numbers due now at a finite rate, without waiting."""
    return pacer.take(room) if pacer.next_due_in() <= 0 else range(0)


@register("zmq", "request-response", "service", listens=(ZMQ_ROUTER,), group="zmq-router")
@register("zmq", "async-request-response", "service", listens=(ZMQ_ROUTER,), group="zmq-router")
def run_router(ctx: ServiceContext, inbound: list[Inbound]) -> None:
    cfg = ctx.config
    zctx = context()
    sock = listener(zctx, zmq.ROUTER, RCVHWM=cfg.hwm, SNDHWM=cfg.hwm,
                    ROUTER_MANDATORY=int(cfg.router_mandatory))
    sock.bind(ctx.listen[ZMQ_ROUTER])
    accept = Accept(wire.REQUEST, [ib.client_index for ib in inbound])
    stamps = {ib.client_index: responder(ib.peer_index) for ib in inbound}
    ctx.ready()
    max_batch = ctx.max_batch()
    try:
        while not ctx.stop.is_set():
            batch = receive(sock, max_batch, tagged=True, accept=accept, wait=True)
            if batch.bad:
                ctx.stats.count("errors", batch.bad)
            if not batch.items:
                continue
            start = 0
            while start < len(batch.items):  # a configured crash's message commits alone (Handler.room)
                end = start + ctx.handler.room(len(batch.items) - start)
                outcomes = ctx.handler.handle_batch(batch.items[start:end])
                if cfg.reply:
                    _reply_all(ctx, sock, batch.tags[start:end], batch.heads[start:end], outcomes, stamps)
                start = end
    finally:
        sock.close()
        zctx.term()


_MORE, _LAST = int(zmq.SNDMORE | zmq.NOBLOCK), int(zmq.NOBLOCK)


def _reply_all(ctx: ServiceContext, sock: zmq.Socket[bytes], tags: list[list[bytes]], heads: list[tuple[int, ...]],
               outcomes: list[int], stamps: dict[int, bytes]) -> None:
    """Reply to each request, never blocking. A reply to a peer that is gone (a Lazy Pirate that
    reopened its socket has a new identity) is dropped by ROUTER without a word; with
    ROUTER_MANDATORY it is an error (EHOSTUNREACH), counted as `replies_unroutable`."""
    send = sock.send
    if len(tags) == 1 and outcomes[0] != CALL_FAILED:  # lockstep: one reply, one counter
        h = heads[0]
        name = "replies_sent"
        try:
            for part in tags[0]:
                send(part, _MORE)
            send(wire.reply_to(h, wire.FLAG_DUPLICATE if outcomes[0] == DUPLICATE else 0,
                               stamps.get(h[2], b"")), _LAST)
        except zmq.Again:
            name = "replies_dropped_hwm"
        except zmq.ZMQError as exc:
            if exc.errno != zmq.EHOSTUNREACH:
                raise
            name = "replies_unroutable"
        ctx.stats.count(name)
        return
    sent = unroutable = full = 0
    for envelope, h, outcome in zip(tags, heads, outcomes, strict=True):
        if outcome == CALL_FAILED:  # its call downstream failed: no answer (the caller times out)
            continue
        flags = wire.FLAG_DUPLICATE if outcome == DUPLICATE else 0
        try:  # what send_multipart does, with plain int flags (its enum arithmetic costs per frame)
            for part in envelope:
                send(part, _MORE)
            send(wire.reply_to(h, flags, stamps.get(h[2], b"")), _LAST)
            sent += 1
        except zmq.Again:  # ROUTER_MANDATORY and the peer's pipe is at its high-water mark
            full += 1
        except zmq.ZMQError as exc:
            if exc.errno != zmq.EHOSTUNREACH:
                raise
            unroutable += 1
    for name, n in (("replies_sent", sent), ("replies_unroutable", unroutable), ("replies_dropped_hwm", full)):
        if n:
            ctx.stats.count(name, n)
