"""The lab's message format on every transport: a fixed struct header, then the payload.

A dict or JSON per message costs 5 to 7 us (PERFORMANCE.md); a struct pack is
0.3 us, so the hot path packs this header and nothing else. The message ID is
(client index, sequence): the supervisor numbers the clients of a topology in
file order, so `client_index` maps back to the client's name, and `seq` is the
client's own counter. Retries and redeliveries keep both and change `attempt`.

A frame holds one or more messages back to back (header, payload, header,
payload...): at rate 0 a client may pack many messages per frame, which is how
ZeroMQ itself reaches its figures. `length` in each header says where the next
message starts.

Layout (little endian, 22 bytes):

    kind     u8   REQUEST, NOTIFY, PUBLISH, REPLY (see below)
    flags    u8   FLAG_REDELIVERED, FLAG_DUPLICATE (a reply from PROCESSED_MESSAGES)
    client   u16  client index
    attempt  u16  0 for the first send, 1 for the first retry...
    seq      u32  the client's sequence number
    ts_ns    u64  time.monotonic_ns() at the send (shared clock on one machine)
    length   u32  payload bytes that follow
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

HEADER = struct.Struct("<BBHHIQI")
HEADER_SIZE = HEADER.size

REQUEST = 1  # expects a reply
NOTIFY = 2  # one way
PUBLISH = 3  # one to many
REPLY = 4  # answer to a REQUEST or PUBLISH; echoes client, seq, attempt, ts_ns

FLAG_REDELIVERED = 1
FLAG_DUPLICATE = 2  # the service had it already (idempotent consumer)

MAX_CLIENTS = 1 << 16
MAX_SEQ = (1 << 32) - 1

_pack = HEADER.pack
_unpack_from = HEADER.unpack_from


class WireError(ValueError):
    """A frame that does not parse as lab messages."""


def message_id(client: int, seq: int) -> int:
    """One integer per message ID, as stored in the services' databases."""
    return (client << 32) | seq


def split_id(mid: int) -> tuple[int, int]:
    return mid >> 32, mid & 0xFFFFFFFF


def pack(kind: int, client: int, seq: int, attempt: int, ts_ns: int, payload: bytes = b"",
         flags: int = 0) -> bytes:
    """One message: header then payload."""
    return _pack(kind, flags, client, attempt, seq, ts_ns, len(payload)) + payload


def pack_batch(kind: int, client: int, first: int, n: int, ts_ns: int, payload: bytes) -> bytes:
    """`n` first attempts with consecutive sequence numbers in one frame (rate 0 batching)."""
    size = len(payload)
    return b"".join([_pack(kind, 0, client, 0, seq, ts_ns, size) + payload
                     for seq in range(first, first + n)])


def unpack(frame: bytes) -> tuple[int, int, int, int, int, int, int]:
    """The header of the first message: (kind, flags, client, attempt, seq, ts_ns, length)."""
    if len(frame) < HEADER_SIZE:
        raise WireError(f"frame of {len(frame)} bytes is shorter than a header ({HEADER_SIZE})")
    return _unpack_from(frame, 0)


def iter_headers(frame: bytes | memoryview) -> Iterator[tuple[int, int, int, int, int, int, int]]:
    """Every message header in a frame, in order; raise WireError on a torn frame."""
    offset, end = 0, len(frame)
    while offset < end:
        if end - offset < HEADER_SIZE:
            raise WireError(f"torn frame: {end - offset} trailing bytes")
        header = _unpack_from(frame, offset)
        offset += HEADER_SIZE + header[6]
        if offset > end:
            raise WireError("torn frame: payload runs past the end")
        yield header


def reply_to(header: tuple[int, ...], flags: int = 0, body: bytes = b"") -> bytes:
    """A REPLY echoing a request's identity and send time, so the client matches and times it."""
    _, _, client, attempt, seq, ts_ns, _ = header
    return _pack(REPLY, flags, client, attempt, seq, ts_ns, len(body)) + body
