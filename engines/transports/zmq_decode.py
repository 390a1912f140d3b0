"""Decoding what a zmq listener receives: frames into deliveries, hostile input counted.

A listener is a loopback port any local process can write to. A frame that
does not parse, carries a kind the listener does not take, or names a client
that does not send to this service is skipped whole and counted (`Batch.bad`).
Split from `_zmq` (sockets and waits), which re-exports these names.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from itertools import groupby
from operator import itemgetter

import zmq

from engines.transports import wire
from engines.transports.base import DeliveryRow

TICK_MS = 100  # every blocking wait checks the stop event at least this often
_KIND, _CLIENT, _LENGTH = itemgetter(0), itemgetter(2), itemgetter(6)
_LENGTH_FIELD = struct.Struct("<I")  # a header's payload length, its last field
_LENGTH_AT = wire.HEADER_SIZE - _LENGTH_FIELD.size
_EVENTS, _POLLIN, _NOBLOCK = int(zmq.EVENTS), int(zmq.POLLIN), int(zmq.NOBLOCK)  # plain ints: enum arithmetic costs per call
_HEADER_UNPACK = wire.HEADER.unpack_from
_UNIFORM_CACHE = 256  # decoders kept for distinct payload lengths (hostile lengths must not grow it)
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
