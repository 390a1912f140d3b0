"""Small ZeroMQ helpers shared by the zmq drivers: sockets with LINGER=0, stop-aware waits, decoding.

Decoding is also the services' first line against hostile input: a listener
is a loopback port any local process can write to. A frame that does not
parse, carries a kind the listener does not take, or names a client that
does not send to this service is skipped whole and counted (`Batch.bad`);
frames above MAX_FRAME_BYTES are refused by ZeroMQ itself, which drops the
sender's connection.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterable, Iterator
from itertools import groupby
from operator import itemgetter
from typing import Any

import zmq

from engines.transports import wire
from engines.transports.base import DeliveryRow

FLUSH_LINGER_MS = 3000  # a finished one-way sender waits this long, at most, for its queue to drain
TICK_MS = 100  # every blocking wait checks the stop event at least this often
_KIND, _CLIENT, _LENGTH = itemgetter(0), itemgetter(2), itemgetter(6)
MAX_FRAME_BYTES = 17 * 1024 * 1024  # the largest payload a topology allows (16 MiB) and its header
_LENGTH_FIELD = struct.Struct("<I")  # a header's payload length, its last field
_LENGTH_AT = wire.HEADER_SIZE - _LENGTH_FIELD.size
_EVENTS, _POLLIN, _NOBLOCK = int(zmq.EVENTS), int(zmq.POLLIN), int(zmq.NOBLOCK)  # plain ints: enum arithmetic costs per call
_HEADER_UNPACK = wire.HEADER.unpack_from
_UNIFORM_CACHE = 256  # decoders kept for distinct payload lengths (hostile lengths must not grow it)


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


_UNIFORM: dict[int, struct.Struct] = {}


def _uniform(length: int) -> struct.Struct:
    """A header followed by `length` skipped payload bytes: decodes a batch frame in C."""
    fmt = _UNIFORM.get(length)
    if fmt is None:
        fmt = struct.Struct(wire.HEADER.format + f"{length}x")
        if len(_UNIFORM) < _UNIFORM_CACHE:
            _UNIFORM[length] = fmt
    return fmt


def _headers(body: bytes) -> list[tuple[int, ...]]:
    """Every header of a frame; a frame of equal-length messages (a batch) is decoded in C."""
    if len(body) >= wire.HEADER_SIZE:
        length = wire.HEADER.unpack_from(body, 0)[6]
        if wire.HEADER_SIZE + length > len(body):
            raise wire.WireError("torn frame: payload runs past the end")
        fmt = _uniform(length)
        if len(body) % fmt.size == 0:
            heads = list(fmt.iter_unpack(body))
            if len(heads) == 1 or set(map(_LENGTH, heads)) == {length}:
                return heads
    return list(wire.iter_headers(body))


class Accept:
    """What a listener takes: one message kind, from the clients that send to it."""

    __slots__ = ("kinds", "clients")

    def __init__(self, kind: int, clients: Iterable[int]) -> None:
        self.kinds = {kind}
        self.clients = set(clients)

    def ok(self, heads: list[tuple[int, ...]]) -> bool:
        return set(map(_KIND, heads)) == self.kinds and set(map(_CLIENT, heads)) <= self.clients


class Batch:
    """Deliveries decoded from frames: their headers and each one's tag (the ROUTER envelope it
    came with: identity, any REQ_CORRELATE request id, the empty delimiter; a frame may carry
    several messages)."""

    __slots__ = ("items", "heads", "tags", "bad", "accept")

    def __init__(self, accept: Accept | None = None) -> None:
        self.items: list[DeliveryRow] = []
        self.heads: list[tuple[int, ...]] = []
        self.tags: list[list[bytes]] = []
        self.bad = 0  # malformed or unexpected frames, skipped whole
        self.accept = accept

    def add(self, body: bytes, tag: list[bytes] | None = None, redelivered: bool = False) -> None:
        """Decode one frame. Deliveries are plain tuples laid out as `Delivery` (a third of
        the cost of the named tuple), with redelivered as 0 or 1 (SQLite binds ints fastest)."""
        try:
            decoded = _headers(body)
        except (wire.WireError, struct.error):
            self.bad += 1
            return
        if not decoded or (self.accept is not None and not self.accept.ok(decoded)):
            self.bad += 1
            return
        if redelivered:
            self.items.extend([(h[2], h[4], h[3], 1, h[5], True) for h in decoded])
        else:
            self.items.extend([(h[2], h[4], h[3], h[1] & 1, h[5], True) for h in decoded])
        self.heads.extend(decoded)
        if tag is not None:
            self.tags.extend([tag] * len(decoded))

    def _add_one(self, body: bytes, tag: list[bytes] | None) -> None:
        """`add` for a frame that `_single` says is exactly one message, without the generic
        decoding: the same delivery, or the same skip."""
        h = _HEADER_UNPACK(body)
        accept = self.accept
        if accept is not None and (h[0] not in accept.kinds or h[2] not in accept.clients):
            self.bad += 1
            return
        self.items.append((h[2], h[4], h[3], h[1] & 1, h[5], True))
        self.heads.append(h)
        if tag is not None:
            self.tags.append(tag)

    def add_singles(self, bodies: list[bytes], tags: list[list[bytes]] | None = None) -> None:
        """Frames of one message each (`_single`): when they are all one size they are decoded
        together in C, as one batch frame would be; if that would skip anything they are added
        frame by frame, so a bad frame is still skipped alone. `tags`: one per frame."""
        if len(bodies) == 1:  # lockstep: one message, its length already checked (`_single`)
            self._add_one(bodies[0], None if tags is None else tags[0])
            return
        if len(bodies) > 1 and len(set(map(len, bodies))) == 1:
            bad = self.bad
            self.add(b"".join(bodies))
            if self.bad == bad:
                if tags is not None:
                    self.tags.extend(tags)
                return
            self.bad = bad  # nothing was added: decode them one by one
        for i, body in enumerate(bodies):
            self.add(body, None if tags is None else tags[i])

    def add_frames(self, bodies: list[bytes]) -> None:
        """Untagged frames in their order of arrival, with what `add` would make of each one: a
        run of frames of one size whose messages all have one length (one message a frame, or
        full batch frames) is decoded as one in C; any other run frame by frame, so a bad
        frame is still skipped alone and no message is read across two frames."""
        for size, group in groupby(bodies, len):
            run = list(group)
            if len(run) == 1 or not self._add_uniform(run, size):
                for body in run:
                    self.add(body)

    def _add_uniform(self, run: list[bytes], size: int) -> bool:
        """Add `run` (frames of `size` bytes) if every frame is whole messages of one length that
        this listener accepts; False, adding nothing, otherwise."""
        if size < wire.HEADER_SIZE:
            return False
        length = _LENGTH_FIELD.unpack_from(run[0], _LENGTH_AT)[0]
        if wire.HEADER_SIZE + length > size:
            return False
        fmt = _uniform(length)
        if size % fmt.size:  # a message would straddle two frames
            return False
        heads = list(fmt.iter_unpack(b"".join(run)))
        if set(map(_LENGTH, heads)) != {length} or (self.accept is not None and not self.accept.ok(heads)):
            return False
        self.items.extend([(h[2], h[4], h[3], h[1] & 1, h[5], True) for h in heads])
        self.heads.extend(heads)
        return True


def recv_parts(sock: zmq.Socket[bytes], flags: int = 0) -> list[bytes]:
    """One whole message, as `recv_multipart` gives it, about twice as fast: a frame's `more`
    flag is read from the message itself, not by a RCVMORE getsockopt per part (issue 19).
    The parts of a multipart message arrive together, so only the first can raise Again."""
    frame = sock.recv(flags, copy=False)
    parts = [frame.bytes]
    while frame.more:
        frame = sock.recv(flags, copy=False)
        parts.append(frame.bytes)
    return parts


def _single(body: bytes) -> bool:
    """Whether a frame is exactly one message (its header's length field covers the rest)."""
    return len(body) >= wire.HEADER_SIZE and len(body) == wire.HEADER_SIZE + _LENGTH_FIELD.unpack_from(body, _LENGTH_AT)[0]


def receive(sock: zmq.Socket[bytes], max_messages: int, tagged: bool = False,
            accept: Accept | None = None, wait: bool = False) -> Batch:
    """Frames already waiting, without blocking, until about `max_messages` deliveries.
    With `wait`, the first receive blocks for up to the socket's RCVTIMEO (a `listener`'s is
    TICK_MS), so a service loop needs no poll before it (an empty batch: nothing came).
    A tagged (ROUTER) message is [identity, (REQ_CORRELATE's request id,) empty delimiter,
    body], any other one frame: other shapes are bad. Frames of one message each (the
    default framing) are decoded together (`Batch.add_singles`)."""
    if not tagged:
        return _receive_plain(sock, max_messages, accept, wait)
    batch = Batch(accept)
    flags = 0 if wait else _NOBLOCK
    bodies: list[bytes] = []
    tags: list[list[bytes]] | None = [] if tagged else None
    while len(batch.items) + len(bodies) < max_messages:
        try:
            parts = recv_parts(sock, flags)
        except zmq.Again:
            break
        if flags == 0:  # after the waited frame: a lockstep peer sent one, skip the raise of Again
            flags = _NOBLOCK
            if not int(sock.get(_EVENTS)) & _POLLIN:
                max_messages = 0
        if (len(parts) not in (3, 4) or parts[-2]) if tagged else len(parts) != 1:
            batch.bad += 1
            continue
        body = parts[-1]
        if _single(body):
            bodies.append(body)
            if tags is not None:
                tags.append(parts[:-1])
            continue
        if bodies:  # keep the order of arrival
            batch.add_singles(bodies, tags)
            bodies, tags = [], ([] if tagged else None)
        batch.add(body, parts[:-1] if tagged else None)
    if bodies:
        batch.add_singles(bodies, tags)
    return batch


def _receive_plain(sock: zmq.Socket[bytes], max_messages: int, accept: Accept | None, wait: bool) -> Batch:
    """`receive` for untagged sockets (PULL, SUB): the loop only receives, and decoding waits
    until it ends (`Batch.add_frames`), so a one-message frame costs a receive and an append.
    A message of more than one frame is bad, as in `recv_parts`, read whole and skipped.
    Messages are counted to `max_messages` from the first message's size: a frame of that
    size is one; a frame of another size counts what its first header says it holds."""
    batch = Batch(accept)
    recv = sock.recv
    bodies: list[bytes] = []
    append = bodies.append
    flags = 0 if wait else _NOBLOCK
    unit, n = -1, 0
    while n < max_messages:
        try:
            frame = recv(flags, copy=False)
        except zmq.Again:
            break
        if frame.more:
            more: bool = True
            while more:
                more = recv(flags, copy=False).more
            batch.bad += 1
            n += 1
        else:
            body = frame.bytes
            append(body)
            if len(body) == unit:
                n += 1
                continue
            if unit < 0:
                unit = _first_message_size(body)
            n += len(body) // _first_message_size(body)
        if flags == 0:  # after the waited frame: a lockstep peer sent one, skip the raise of Again
            flags = _NOBLOCK
            if not int(sock.get(_EVENTS)) & _POLLIN:
                break
    if bodies:
        batch.add_frames(bodies)
    return batch


def _first_message_size(body: bytes) -> int:
    """The size of a frame's first message (header and payload) as its header says, or the
    frame's whole size when that does not parse: what one delivery weighs against max_messages."""
    if len(body) < wire.HEADER_SIZE:
        return max(1, len(body))
    return min(len(body), wire.HEADER_SIZE + int(_LENGTH_FIELD.unpack_from(body, _LENGTH_AT)[0]))


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
