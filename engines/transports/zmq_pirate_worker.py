"""A Pirate queue's worker (the zguide, chapter 4): a service that asks its queue for requests.

Simple Pirate: a REQ socket says READY once, then answers each request the
queue hands it, in lockstep. It cannot tell that the queue restarted: its
socket reconnects on its own, but the new queue never heard its READY, so it
waits for ever (the queue counts it stranded).

Paranoid Pirate: a DEALER socket with its own identity says READY, sends a
HEARTBEAT every interval and expects one (or a request) from the queue;
after `liveness` silent intervals it gives the queue up, waits the back-off
(INTERVAL_INIT, doubling up to INTERVAL_MAX), opens a new socket and says
READY again (`pirate_reconnects`, `pirate_ready_sent`).

The work itself is the handler's, as for every service: the SQLite commit,
PROCESSED_MESSAGES when idempotent, the configured crash; the reply leaves
only after the commit.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import Any

import zmq

from engines.transports import register, wire
from engines.transports._zmq import TICK_MS, Accept, Batch, context, responder, socket
from engines.transports.base import DUPLICATE, ZMQ_WORKERS, Inbound, ServiceContext
from engines.transports.zmq_pirate import HEARTBEAT, READY


class Work:
    """Turns a request's frames (envelope, body) into a committed delivery and its reply frames."""

    def __init__(self, ctx: ServiceContext, inbound: list[Inbound]) -> None:
        self.ctx = ctx
        self.accept = Accept(wire.REQUEST, [ib.client_index for ib in inbound])
        self.stamp = responder(inbound[0].peer_index)

    def reply(self, frames: list[bytes]) -> list[bytes]:
        batch = Batch(self.accept)
        batch.add(frames[-1])
        if batch.bad or len(batch.items) != 1:
            self.ctx.stats.count("errors")
            return [*frames[:-1], b""]  # a REQ must answer to go on; the client sees it malformed
        outcome = self.ctx.handler.handle_batch(batch.items)[0]
        flags = wire.FLAG_DUPLICATE if outcome == DUPLICATE else 0
        self.ctx.stats.count("replies_sent")
        return [*frames[:-1], wire.reply_to(batch.heads[0], flags, self.stamp)]


@register("zmq", "pirate-worker", "service", group="zmq-pirate-worker")
def run_worker(ctx: ServiceContext, inbound: list[Inbound]) -> None:
    endpoint = inbound[0].publisher[ZMQ_WORKERS]
    settings: Mapping[str, Any] = inbound[0].channel or {}
    zctx = context()
    try:
        if settings.get("mode") == "paranoid":
            _paranoid(ctx, zctx, endpoint, settings, Work(ctx, inbound))
        else:
            _simple(ctx, zctx, endpoint, Work(ctx, inbound))
    finally:
        zctx.term()


def _simple(ctx: ServiceContext, zctx: zmq.Context[zmq.Socket[bytes]], endpoint: str, work: Work) -> None:
    sock = socket(zctx, zmq.REQ)
    sock.connect(endpoint)
    try:
        sock.send(READY)
        ctx.stats.count("pirate_ready_sent")
        ctx.ready()
        while not ctx.stop.is_set():
            if sock.poll(TICK_MS, zmq.POLLIN):
                sock.send_multipart(work.reply(sock.recv_multipart()))
    finally:
        sock.close()


def _paranoid(ctx: ServiceContext, zctx: zmq.Context[zmq.Socket[bytes]], endpoint: str,
              settings: Mapping[str, Any], work: Work) -> None:
    beat = int(settings.get("heartbeat_ms", 1000)) / 1000.0
    liveness_max = int(settings.get("liveness", 3))
    init = int(settings.get("interval_init_ms", 1000)) / 1000.0
    most = int(settings.get("interval_max_ms", 32000)) / 1000.0

    def open_socket() -> zmq.Socket[bytes]:
        sock = socket(zctx, zmq.DEALER)
        sock.setsockopt(zmq.IDENTITY, f"{random.randint(0, 0x10000):04X}-{random.randint(0, 0x10000):04X}".encode())
        sock.connect(endpoint)
        sock.send(READY)
        ctx.stats.count("pirate_ready_sent")
        return sock

    sock = open_socket()
    ctx.ready()
    liveness, interval = liveness_max, init
    silent_until = heartbeat_at = time.monotonic() + beat
    try:
        while not ctx.stop.is_set():
            if sock.poll(TICK_MS, zmq.POLLIN):
                frames = sock.recv_multipart()
                if len(frames) >= 3:
                    sock.send_multipart(work.reply(frames))
                elif frames != [HEARTBEAT]:
                    ctx.stats.count("errors")
                liveness, interval = liveness_max, init
                silent_until = time.monotonic() + beat
            elif time.monotonic() >= silent_until:
                liveness -= 1
                ctx.stats.count("pirate_queue_silent")
                silent_until += beat
                if liveness <= 0:
                    ctx.log.warning("heartbeat failure, can't reach queue; reconnecting in %.1f s", interval)
                    sock.close()
                    if ctx.stop.wait(interval):
                        return
                    interval = min(interval * 2, most)
                    sock = open_socket()
                    ctx.stats.count("pirate_reconnects")
                    liveness, silent_until = liveness_max, time.monotonic() + beat
            if time.monotonic() >= heartbeat_at:
                try:
                    sock.send(HEARTBEAT, zmq.NOBLOCK)
                except zmq.Again:
                    pass
                heartbeat_at = time.monotonic() + beat
    finally:
        sock.close()
