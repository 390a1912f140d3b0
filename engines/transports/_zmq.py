"""Small ZeroMQ helpers shared by the zmq drivers: sockets with LINGER=0, stop-aware waits, decoding."""

from __future__ import annotations

import threading
from collections.abc import Iterable

import zmq

from engines import wire
from engines.transports.base import Delivery

FLUSH_LINGER_MS = 3000  # a finished one-way sender waits this long, at most, for its queue to drain
TICK_MS = 100  # every blocking wait checks the stop event at least this often


def context() -> zmq.Context:
    ctx = zmq.Context(1)
    ctx.setsockopt(zmq.LINGER, 0)  # with the default, ctx.term() hangs on undelivered messages
    return ctx


def socket(ctx: zmq.Context, kind: int, **options: int) -> zmq.Socket:
    sock = ctx.socket(kind)
    sock.setsockopt(zmq.LINGER, 0)
    for name, value in options.items():
        sock.setsockopt(getattr(zmq, name), value)
    return sock


def send_until_stopped(sock: zmq.Socket, frames: bytes | list[bytes], stop: threading.Event) -> bool:
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


def drain(sock: zmq.Socket, max_frames: int) -> list[list[bytes]]:
    """Up to max_frames multipart messages already waiting, without blocking."""
    out: list[list[bytes]] = []
    recv = sock.recv_multipart
    for _ in range(max_frames):
        try:
            out.append(recv(zmq.NOBLOCK))
        except zmq.Again:
            break
    return out


def decode(frames: Iterable[tuple[object, bytes]], redelivered: bool = False
           ) -> tuple[list[Delivery], list[tuple[int, ...]], list[object], int]:
    """Decode (tag, frame) pairs of lab messages.

    Returns the deliveries, their headers, each one's tag (e.g. the ROUTER
    identity it came from; a frame may carry several messages) and the number
    of malformed frames, which are skipped whole.
    """
    out: list[Delivery] = []
    heads: list[tuple[int, ...]] = []
    tags: list[object] = []
    bad = 0
    for tag, body in frames:
        try:
            decoded = list(wire.iter_headers(body))
        except wire.WireError:
            bad += 1
            continue
        for h in decoded:
            out.append(Delivery(h[2], h[4], h[3], redelivered or bool(h[1] & wire.FLAG_REDELIVERED), h[5]))
        heads.extend(decoded)
        tags.extend([tag] * len(decoded))
    return out, heads, tags, bad


def responder(index: int) -> bytes:
    """Reply body: the responding service's position in the client's peer list."""
    return index.to_bytes(2, "little")


def responder_of(header: tuple[int, ...], frame: bytes) -> int:
    if header[6] >= 2:
        return int.from_bytes(frame[wire.HEADER_SIZE:wire.HEADER_SIZE + 2], "little")
    return -1


def close_flushing(sock: zmq.Socket, stop: threading.Event) -> None:
    """Close a one-way sender: let its queue drain (bounded) unless the node was told to stop."""
    if not stop.is_set():
        sock.setsockopt(zmq.LINGER, FLUSH_LINGER_MS)
    sock.close()
