"""A node's per-message trace: fixed 32-byte records in a memory-mapped, append-only file.

Why a mapping: a store into a shared file mapping costs what a store into a
bytearray costs (one `pack_into`, no system call), and the kernel keeps the
pages when the node is SIGKILLed, so a killed consumer's trace ends exactly
where its life did. The file is sparse: only the pages written take space.

Record layout (little endian, 32 bytes; a record whose `ts` is 0 was never written):

    ts      i64  time.monotonic_ns() (one system-wide clock on this machine:
                 traces of all nodes merge by sorting, no vector clocks)
    msg     i64  message ID, `client_index << 32 | seq` (engines.transports.wire)
    cause   i64  the upstream message ID that caused this one (a hop in a chain), or -1
    kind    u8   SEND, RETRY, ACK, ... (below)
    flags   u8   kind-specific: F_REDELIVERED, F_REPLY, F_CONFIRM, F_RANGE
    attempt u16  0 for the first send, 1 for the first retry...
    aux     i32  with F_RANGE: how many consecutive sequences from `msg`; ERROR: the error kind's
                 index in engines.nodes.records.ERROR_KINDS; ACK with F_REPLY: the replying peer

Downstream messages (chains) name their upstream message in `cause`, so a
story can follow one ID across hops. Node programs import this module: no
numpy, no pydantic (the reader with numpy is engines.trace.merge).
"""

from __future__ import annotations

import mmap
import os
import struct
from pathlib import Path

MAGIC = b"LABTRC1\0"
HEAD = 32  # magic, capacity i64, mode i64, dropped i64
RECORD = struct.Struct("<qqqBBHi")
SIZE = RECORD.size  # 32

# kinds
SEND, RETRY, ACK, NACK, TIMEOUT, ERROR, GAVE_UP, IN_DOUBT = range(1, 9)
DELIVER, COMMIT, DUP_REFUSED, REPLY_SENT, CAUSED = range(9, 14)
KIND_NAMES = {SEND: "send", RETRY: "retry", ACK: "ack", NACK: "nack", TIMEOUT: "timeout",
              ERROR: "error", GAVE_UP: "gave-up", IN_DOUBT: "in-doubt", DELIVER: "deliver",
              COMMIT: "commit", DUP_REFUSED: "duplicate-refused", REPLY_SENT: "reply-sent",
              CAUSED: "caused"}

# flags
F_REDELIVERED, F_REPLY, F_CONFIRM, F_RANGE, F_NOACK = 1, 2, 4, 8, 16

# modes
OFF, ALL, ANOMALIES = 0, 1, 2
MODES = {"off": OFF, "all": ALL, "anomalies": ANOMALIES}

FILE_NAME = "trace.bin"
MAX_RECORDS = 1 << 23  # 256 MiB of (sparse) file at most per node


class TraceWriter:
    """Appends records; not thread-safe by itself (callers already hold their own lock)."""

    def __init__(self, path: Path, capacity: int, mode: int = ALL, sample: int = 100) -> None:
        self.mode = mode
        self.sample = max(1, sample)
        self.path = Path(path)
        capacity = max(1024, min(capacity, MAX_RECORDS))
        exists = self.path.exists() and self.path.stat().st_size >= HEAD
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if exists:
                with open(self.path, "rb") as fh:
                    head = fh.read(HEAD)
                if head[:8] != MAGIC:
                    raise ValueError(f"{self.path} is not a trace file")
                capacity = int.from_bytes(head[8:16], "little", signed=True)
            else:
                os.ftruncate(fd, HEAD + capacity * SIZE)
            self._mm = mmap.mmap(fd, HEAD + capacity * SIZE)
            no_readahead(self._mm)
        finally:
            os.close(fd)
        if not exists:
            self._mm[:8] = MAGIC
            self._mm[8:16] = capacity.to_bytes(8, "little", signed=True)
            self._mm[16:24] = mode.to_bytes(8, "little", signed=True)
        self.capacity = capacity
        # a restarted node appends after its earlier life; a new file has none (probing its holes
        # faults in a page each: 10 to 30 ms of a node's start)
        self.n = _used(self._mm, capacity) if exists else 0
        self._pack = RECORD.pack_into

    def add(self, ts: int, kind: int, msg: int, attempt: int = 0, flags: int = 0, aux: int = 0,
            cause: int = -1) -> None:
        n = self.n
        if n >= self.capacity:
            self._dropped()
            return
        self._pack(self._mm, HEAD + n * SIZE, ts, msg, cause, kind, flags, attempt & 0xFFFF, aux)
        self.n = n + 1

    def wanted(self, seq: int) -> bool:
        """In ANOMALIES mode, whether `seq` is in the uniform sample of ordinary messages."""
        return self.mode == ALL or seq % self.sample == 0

    def _dropped(self) -> None:
        dropped = int.from_bytes(self._mm[24:32], "little", signed=True) + 1
        self._mm[24:32] = dropped.to_bytes(8, "little", signed=True)

    def close(self) -> None:
        self._mm.flush()
        self._mm.close()


def no_readahead(mm: mmap.mmap) -> None:
    """Fault in only the page written. With the kernel's readahead, the first store into a new
    sparse file of 128 MiB cost about 1 ms of CPU (pages around it zero-filled for a read that
    never comes), a node's start paid it per mapping; appending costs about 1 us more a page."""
    if hasattr(mmap, "MADV_RANDOM"):
        mm.madvise(mmap.MADV_RANDOM)


def _used(mm: mmap.mmap, capacity: int) -> int:
    """Records written so far: they fill the file in order, so the first zero `ts` ends them."""
    lo, hi = 0, capacity
    while lo < hi:
        mid = (lo + hi) // 2
        if int.from_bytes(mm[HEAD + mid * SIZE:HEAD + mid * SIZE + 8], "little", signed=True) != 0:
            lo = mid + 1
        else:
            hi = mid
    return lo


def read_raw(path: Path) -> tuple[bytes, int, int]:
    """(record bytes, mode, dropped) of a trace file; raises ValueError on a foreign or torn file."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD)
        if len(head) < HEAD or head[:8] != MAGIC:
            raise ValueError(f"{path} is not a trace file")
        capacity = int.from_bytes(head[8:16], "little", signed=True)
        mode = int.from_bytes(head[16:24], "little", signed=True)
        dropped = int.from_bytes(head[24:32], "little", signed=True)
        size = os.fstat(fh.fileno()).st_size
        capacity = max(0, min(capacity, (size - HEAD) // SIZE))  # a truncated file: what is there
        if capacity == 0:
            return b"", mode, dropped
        with mmap.mmap(fh.fileno(), HEAD + capacity * SIZE, access=mmap.ACCESS_READ) as mm:
            used = _used(mm, capacity)
            return bytes(mm[HEAD:HEAD + used * SIZE]), mode, dropped
