"""ZeroMQ notification: PUSH to competing PULL workers. Nothing comes back.

PUSH round-robins and blocks (here: waits, stop-aware) when every worker's
high-water mark is reached. With `immediate: false` (ZMQ_IMMEDIATE=0, libzmq's
default) every worker it connects to has a pipe from the start, connected or
not: messages queue in an absent or dead worker's pipe up to the high-water
mark (delivered if it comes back, lost if it never does). With `immediate:
true` messages go only to connected workers. A worker killed
with messages in its buffers loses them, and the sender hears nothing: that
is the lesson of this style.

One message per frame by default, so the high-water marks and what a killed
worker loses count messages. `messages_per_frame: N` packs up to N messages
that are due into one frame (faster at rate 0); the high-water marks then
count frames of N messages, and a killed worker loses whole frames.
"""

from __future__ import annotations

import time

import zmq

from engines.transports import register, wire
from engines.transports._zmq import (
    Accept,
    close_flushing,
    context,
    heartbeats,
    listener,
    receive,
    send_until_stopped,
    socket,
)
from engines.transports.base import ZMQ_PULL, ZMQ_PUSH, ClientContext, Inbound, ServiceContext

MAX_FRAME_BYTES = 256 * 1024  # large payloads go one or a few to a frame
SINGLES_CHUNK = 64  # one-a-frame sequence numbers taken and recorded at once
_NOBLOCK = int(zmq.NOBLOCK)  # a plain int: enum arithmetic costs per call


@register("zmq", "notification", "client", acknowledges=lambda config: False)
def run_push(ctx: ClientContext) -> None:
    rec, pacer = ctx.recorder, ctx.pacer
    hwm = next((p.link_hwm for p in ctx.peers if p.link_hwm is not None), 1000)
    zctx = context()
    sock = socket(zctx, zmq.PUSH, IMMEDIATE=int(ctx.config.immediate), SNDHWM=hwm, **heartbeats(ctx.config))
    if ZMQ_PUSH in ctx.listen:  # zmq_binds: client: no pipe until a worker connects; sends wait
        sock.bind(ctx.listen[ZMQ_PUSH])
    else:
        for peer in ctx.peers:
            sock.connect(peer.endpoints[ZMQ_PULL])
    batch = max(1, min(ctx.config.messages_per_frame, MAX_FRAME_BYTES // (len(ctx.payload) + wire.HEADER_SIZE)))
    ci, payload = ctx.client_index, ctx.payload
    try:
        if batch == 1:
            _push_singles(ctx, sock)
            return
        while True:
            seqs = pacer.take(batch)
            if not seqs:
                return
            frame = wire.pack_batch(wire.NOTIFY, ci, seqs.start, len(seqs), time.monotonic_ns(), payload)
            rec.sent_range(seqs.start, len(seqs))
            if not send_until_stopped(sock, frame, ctx.stop):
                rec.withdraw_range(seqs.start, len(seqs))  # stopped before ZeroMQ took them
                return
    finally:
        close_flushing(sock, ctx.config.linger_ms)
        zctx.term()


def _push_singles(ctx: ClientContext, sock: zmq.Socket[bytes]) -> None:
    """One message a frame. The due sequence numbers are taken and recorded SINGLES_CHUNK at a
    time (one pacer and record-file call for many), then sent one frame each, stamped at its own
    send. A stop while the high-water mark blocks withdraws what was not handed over; a kill
    loses the rest of the chunk as it loses what ZeroMQ still holds in the process (up to
    the high-water mark), so the ledger sees the same losses.

    Each header is packed into one reused buffer that ZeroMQ copies at the send (copy=True),
    through the backend's `send`: pyzmq's Python-level `Socket.send` wrapper and a new bytes a
    message were a third of the client's CPU."""
    rec, pacer, stop = ctx.recorder, ctx.pacer, ctx.stop
    send, clock = zmq.backend.Socket.send, time.monotonic_ns
    frame = bytearray(wire.HEADER_SIZE + len(ctx.payload))
    frame[wire.HEADER_SIZE:] = ctx.payload
    pack_into = wire.HEADER.pack_into
    kind, ci, size = wire.NOTIFY, ctx.client_index, len(ctx.payload)
    while True:
        seqs = pacer.take(SINGLES_CHUNK)
        if not seqs:
            return
        rec.sent_range(seqs.start, len(seqs))
        for seq in seqs:
            pack_into(frame, 0, kind, 0, ci, 0, seq, clock(), size)
            try:
                send(sock, frame, _NOBLOCK)
            except zmq.Again:
                if not send_until_stopped(sock, bytes(frame), stop):
                    rec.withdraw_range(seq, seqs.stop - seq)
                    return


@register("zmq", "notification", "service", listens=(ZMQ_PULL,), group="zmq-pull")
def run_pull(ctx: ServiceContext, inbound: list[Inbound]) -> None:
    zctx = context()
    sock = listener(zctx, zmq.PULL, RCVHWM=ctx.config.hwm)
    if ZMQ_PULL in ctx.listen:
        sock.bind(ctx.listen[ZMQ_PULL])
    for ib in inbound:  # clients whose PUSH binds (zmq_binds: client)
        if ZMQ_PUSH in ib.publisher:
            sock.connect(ib.publisher[ZMQ_PUSH])
    accept = Accept(wire.NOTIFY, [ib.client_index for ib in inbound])
    ctx.ready()
    max_batch = ctx.max_batch()
    handle = ctx.handler.handle_batch
    try:
        while not ctx.stop.is_set():
            batch = receive(sock, max_batch, accept=accept, wait=True)
            if batch.bad:
                ctx.stats.count("errors", batch.bad)
            if batch.items:
                handle(batch.items)
    finally:
        sock.close()
        zctx.term()
