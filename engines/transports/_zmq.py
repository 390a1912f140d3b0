"""Small ZeroMQ helpers shared by the zmq drivers: sockets with LINGER=0, stop-aware waits.

Frames above MAX_FRAME_BYTES are refused by ZeroMQ itself, which drops the
sender's connection. Decoding (the services' first line against hostile
input) lives in `zmq_decode`; its names are re-exported here for the drivers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import zmq

from engines.transports import wire
from engines.transports.zmq_decode import TICK_MS as TICK_MS  # re-exported for the drivers
from engines.transports.zmq_decode import Accept as Accept  # re-exported for the drivers
from engines.transports.zmq_decode import Batch as Batch  # re-exported for the drivers
from engines.transports.zmq_decode import receive as receive  # re-exported for the drivers
from engines.transports.zmq_decode import recv_parts as recv_parts  # re-exported for the drivers

FLUSH_LINGER_MS = 3000  # a finished one-way sender waits this long, at most, for its queue to drain
MAX_FRAME_BYTES = 17 * 1024 * 1024  # the largest payload a topology allows (16 MiB) and its header
_NOBLOCK = int(zmq.NOBLOCK)  # plain ints: enum arithmetic costs per call


def context() -> zmq.Context[zmq.Socket[bytes]]:
    ctx = zmq.Context(1)
    ctx.setsockopt(zmq.LINGER, 0)  # with the default, ctx.term() hangs on undelivered messages
    return ctx


def socket(ctx: zmq.Context[zmq.Socket[bytes]], kind: int, **options: int) -> zmq.Socket[bytes]:
    sock = ctx.socket(kind)
    sock.setsockopt(zmq.LINGER, 0)
    for name, value in options.items():
        sock.setsockopt(getattr(zmq, name), value)
    return sock


def heartbeats(config: Any) -> dict[str, int]:
    """ZMTP heartbeat options of a client's config (libzmq's defaults: none), for `socket(...)`."""
    ivl = int(getattr(config, "heartbeat_ivl_ms", 0))
    if ivl <= 0:
        return {}
    options = {"HEARTBEAT_IVL": ivl, "HEARTBEAT_TTL": int(getattr(config, "heartbeat_ttl_ms", 0))}
    timeout = int(getattr(config, "heartbeat_timeout_ms", -1))
    if timeout >= 0:
        options["HEARTBEAT_TIMEOUT"] = timeout
    return options


def send_until_stopped(sock: zmq.Socket[bytes], frames: bytes | list[bytes], stop: threading.Event) -> bool:
    """Send, waiting (stop-aware) while the high-water mark blocks it; False if stopped first."""
    multipart = isinstance(frames, list)
    while True:
        try:
            if multipart:
                sock.send_multipart(frames, zmq.NOBLOCK)  # type: ignore[arg-type]
            else:
                sock.send(frames, zmq.NOBLOCK)  # type: ignore[arg-type]
            return True
        except zmq.Again:
            if stop.is_set():
                return False
            sock.poll(TICK_MS, zmq.POLLOUT)


class Waiter:
    """Stop-aware waits on one socket without a new Poller per wait.

    pyzmq's `Socket.poll` builds, registers and drops a `Poller` on every
    call, which was most of a lockstep request's Python work (issue 19).
    `recv` blocks in one C call with RCVTIMEO (set only when the timeout
    changes); `poll` reuses one Poller for this socket and event mask.
    """

    __slots__ = ("sock", "poller", "_timeout")

    def __init__(self, sock: zmq.Socket[bytes], events: int = zmq.POLLIN) -> None:
        self.sock = sock
        self.poller = zmq.Poller()
        self.poller.register(sock, events)
        self._timeout = int(sock.getsockopt(zmq.RCVTIMEO))

    def poll(self, timeout_ms: float) -> bool:
        """Whether the socket is ready for the events within `timeout_ms`."""
        return bool(self.poller.poll(int(timeout_ms)))

    def recv(self, timeout_ms: float) -> bytes | None:
        """The next single-frame message, or None after `timeout_ms`."""
        ms = int(timeout_ms)
        if ms != self._timeout:
            self.sock.setsockopt(zmq.RCVTIMEO, ms)
            self._timeout = ms
        try:
            return self.sock.recv()
        except zmq.Again:
            return None


def drain(sock: zmq.Socket[bytes], max_frames: int) -> list[list[bytes]]:
    """Up to max_frames multipart messages already waiting, without blocking."""
    out: list[list[bytes]] = []
    for _ in range(max_frames):
        try:
            out.append(recv_parts(sock, _NOBLOCK))
        except zmq.Again:
            break
    return out


def replies(sock: zmq.Socket[bytes], recorder: Any, max_frames: int = 1000) -> Iterator[tuple[tuple[int, ...], bytes]]:
    """(header, frame) of each reply already waiting; a malformed frame is counted, not raised."""
    for parts in drain(sock, max_frames):
        frame = parts[-1]
        try:
            header = wire.unpack(frame)
        except wire.WireError:
            recorder.error(-1, "malformed")
            continue
        yield header, frame




def listener(ctx: zmq.Context[zmq.Socket[bytes]], kind: int, **options: int) -> zmq.Socket[bytes]:
    """A service's receiving socket: LINGER=0, no frame above MAX_FRAME_BYTES, and a blocking
    receive returns after TICK_MS (for `receive(..., wait=True)`: the loop sees its stop event)."""
    return socket(ctx, kind, MAXMSGSIZE=MAX_FRAME_BYTES, RCVTIMEO=TICK_MS, **options)


def responder(index: int) -> bytes:
    """Reply body: the responding service's position in the client's peer list."""
    return index.to_bytes(2, "little")


def responder_of(header: tuple[int, ...], frame: bytes) -> int:
    if header[6] >= 2:
        return int.from_bytes(frame[wire.HEADER_SIZE:wire.HEADER_SIZE + 2], "little")
    return -1


def close_flushing(sock: zmq.Socket[bytes], linger_ms: int = FLUSH_LINGER_MS) -> None:
    """Close a one-way sender after letting what it already sent drain (bounded).

    Done sending or told to stop, a client does not take back what it handed
    to ZeroMQ: the queue gets `linger_ms` (the client's setting, FLUSH_LINGER_MS
    unless set) to reach the peers (libzmq's infinite default is the trap; zero
    loses the tail). Only SIGKILL loses it otherwise.
    """
    sock.setsockopt(zmq.LINGER, linger_ms)
    sock.close()
