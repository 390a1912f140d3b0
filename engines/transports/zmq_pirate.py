"""Pirate queues (the zguide, chapter 4): a ROUTER for clients, a ROUTER for workers, LRU between.

Simple Pirate (`pirate: simple`): a worker (REQ) says READY once; the queue
keeps ready workers in least-recently-used order and reads clients' requests
only while one is ready, giving each to the oldest. A worker that dies stays
in the list until its turn: the request given to it vanishes (the client's
Lazy Pirate retry is the only recovery). A queue that restarts has no workers:
they said READY to the queue that died and wait, connected, for ever
(counted as `pirate_stranded`).

Paranoid Pirate (`pirate: paranoid`): the queue sends HEARTBEAT to its ready
workers every interval and purges those it has not heard from for `liveness`
intervals (`pirate_purged`); any message from an unknown worker, READY or
HEARTBEAT, registers it (`pirate_registrations`). The worker side is in
`zmq_pirate_worker`.

What the queue counts goes to the node's telemetry (`ctx.stats`): the summary
has it per node (`queue.pirate_purged`), over every life of the node.
"""

from __future__ import annotations

import time
from collections import OrderedDict

import zmq
from zmq.utils.monitor import recv_monitor_message

from engines.transports import register
from engines.transports._zmq import TICK_MS, context, listener
from engines.transports.base import ZMQ_ROUTER, ZMQ_WORKERS, Inbound, ServiceContext

READY = b"\x01"  # the zguide's PPP_READY
HEARTBEAT = b"\x02"  # the zguide's PPP_HEARTBEAT
STRANDED_GRACE_S = 2.0  # a worker connected this long without registering is stranded


class Workers:
    """Ready workers, least recently used first, each with the time it expires (paranoid)."""

    def __init__(self, span_s: float) -> None:
        self.span_s = span_s
        self.ready: OrderedDict[bytes, float] = OrderedDict()
        self.known: set[bytes] = set()  # heard from in this life and not purged (busy ones too)

    def heard(self, identity: bytes) -> bool:
        """Note a message from a worker; True when it registers (a worker not known before)."""
        new = identity not in self.known
        self.known.add(identity)
        return new

    def make_ready(self, identity: bytes) -> None:
        self.ready.pop(identity, None)
        self.ready[identity] = time.monotonic() + self.span_s

    def next(self) -> bytes:
        identity, _ = self.ready.popitem(last=False)
        return identity

    def purge(self) -> int:
        """Forget the ready workers whose heartbeats stopped; how many went."""
        now = time.monotonic()
        gone = [w for w, expiry in self.ready.items() if expiry < now]
        for identity in gone:
            del self.ready[identity]
            self.known.discard(identity)
        return len(gone)


class Connections:
    """Workers connected to the backend (socket monitor) against workers registered: a gap that
    lasts is a worker that will never register (a Simple Pirate worker after a queue restart)."""

    def __init__(self, backend: zmq.Socket[bytes]) -> None:
        self.monitor = backend.get_monitor_socket(zmq.EVENT_ACCEPTED | zmq.EVENT_DISCONNECTED)
        self.connected = 0
        self.reported = 0
        self.gap_since: float | None = None

    def update(self) -> None:
        while self.monitor.poll(0, zmq.POLLIN):
            event = recv_monitor_message(self.monitor)["event"]
            self.connected += 1 if event == zmq.EVENT_ACCEPTED else -1

    def stranded(self, registered: int, grace_s: float) -> int:
        """Newly stranded workers (counted once each, per life of the queue)."""
        gap = self.connected - registered
        if gap <= self.reported:
            self.gap_since = None
            return 0
        now = time.monotonic()
        if self.gap_since is None:
            self.gap_since = now
        if now - self.gap_since < grace_s:
            return 0
        new, self.reported, self.gap_since = gap - self.reported, gap, None
        return new


@register("zmq", "pirate-queue", "service", listens=(ZMQ_ROUTER, ZMQ_WORKERS), group="zmq-pirate-queue")
def run_queue(ctx: ServiceContext, inbound: list[Inbound]) -> None:
    cfg, stats = ctx.config, ctx.stats
    paranoid = cfg.pirate == "paranoid"
    interval = cfg.pirate_heartbeat_ms / 1000.0
    workers = Workers(interval * cfg.pirate_liveness if paranoid else float("inf"))
    grace = interval * cfg.pirate_liveness + 1.0 if paranoid else STRANDED_GRACE_S
    zctx = context()
    frontend = listener(zctx, zmq.ROUTER, RCVHWM=cfg.hwm, SNDHWM=cfg.hwm)
    backend = listener(zctx, zmq.ROUTER)
    connections = Connections(backend)
    frontend.bind(ctx.listen[ZMQ_ROUTER])
    backend.bind(ctx.listen[ZMQ_WORKERS])
    ctx.ready()
    heartbeat_at = time.monotonic() + interval
    poll_workers, poll_both = zmq.Poller(), zmq.Poller()
    poll_workers.register(backend, zmq.POLLIN)
    poll_both.register(backend, zmq.POLLIN)
    poll_both.register(frontend, zmq.POLLIN)
    try:
        while not ctx.stop.is_set():
            poller = poll_both if workers.ready else poll_workers  # requests wait for a worker
            wait = TICK_MS if not paranoid else max(0, min(TICK_MS, int((heartbeat_at - time.monotonic()) * 1000)))
            events = dict(poller.poll(wait))
            if backend in events:
                _from_worker(backend.recv_multipart(), paranoid, workers, frontend, ctx)
            if frontend in events and workers.ready:
                frames = frontend.recv_multipart()
                if len(frames) < 3 or frames[-2]:
                    stats.count("errors")
                    continue
                worker = workers.next()
                backend.send_multipart([worker, *frames] if paranoid else [worker, b"", *frames])
                stats.count("pirate_forwarded")
            if paranoid and time.monotonic() >= heartbeat_at:
                for worker in workers.ready:
                    backend.send_multipart([worker, HEARTBEAT])
                heartbeat_at = time.monotonic() + interval
                purged = workers.purge()
                if purged:
                    stats.count("pirate_purged", purged)
                    ctx.log.info("purged %d worker(s) silent for %d heartbeats", purged, cfg.pirate_liveness)
            connections.update()
            stranded = connections.stranded(len(workers.known), grace)
            if stranded:
                stats.count("pirate_stranded", stranded)
                ctx.log.warning("%d worker(s) connected but never registered: stranded", stranded)
        if not paranoid:  # stopped: a Simple Pirate worker connected and never registered is
            connections.update()  # stranded (a paranoid one registers with its next heartbeat)
            stranded = connections.stranded(len(workers.known), 0.0)
            if stranded:
                stats.count("pirate_stranded", stranded)
    finally:
        backend.disable_monitor()
        connections.monitor.close()
        frontend.close()
        backend.close()
        zctx.term()


def _from_worker(frames: list[bytes], paranoid: bool, workers: Workers, frontend: zmq.Socket[bytes],
                 ctx: ServiceContext) -> None:
    """A worker's READY, HEARTBEAT or reply: it is ready again; a reply goes to its client."""
    identity = frames[0]
    if paranoid:
        msg = frames[1:]
    elif len(frames) >= 3 and not frames[1]:  # a REQ worker's envelope: [identity, b"", ...]
        msg = frames[2:]
    else:
        ctx.stats.count("errors")
        return
    if msg in ([READY], [HEARTBEAT]) or len(msg) >= 3:
        if workers.heard(identity):
            ctx.stats.count("pirate_registrations")
            ctx.log.info("worker %r registered", identity)
        workers.make_ready(identity)
    if len(msg) >= 3:
        try:  # a client that reopened its socket (Lazy Pirate) is gone: ROUTER drops it silently
            frontend.send_multipart(msg, zmq.NOBLOCK)
            ctx.stats.count("pirate_replies")
        except zmq.Again:
            ctx.stats.count("replies_dropped_hwm")
    elif msg not in ([READY], [HEARTBEAT]):
        ctx.stats.count("errors")
