"""A client's record of every message ID, in a memory-mapped file that outlives a SIGKILL.

The ledger needs, per sequence number, whether the client attempted it, was
told the system has it, timed out, gave up... A byte of flags per sequence in
a shared file mapping costs one store per event, and the kernel keeps the
pages when the process is killed: a SIGKILLed client loses only the event it
was in the middle of recording. Counters (attempts, retries, replies...) live
in the same mapping.

File layout: MAGIC (8 bytes), then SLOTS int64 counters, then `capacity`
status bytes, then (publish-async-responses) `capacity` uint32 masks of the
peers that replied within the collection window, then `capacity` bytes of
more flags (RETURNED, CONFIRMED) when the FLAGS2 slot says so.
"""

from __future__ import annotations

import mmap
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from engines.ledger.histogram import HeldLatencies, Histogram
from engines.nodes import tracefile as tf

MAGIC = b"LABREC1\0"
SLOTS = 64
HEAD = len(MAGIC) + SLOTS * 8

# status flags, one byte per sequence number
SENT, ACKED, TIMEOUT, ERROR, GAVE_UP, RETRIED, NACKED, IN_DOUBT = (1 << i for i in range(8))

# counter slots
CAPACITY, NEXT, ATTEMPTS, RETRIES, REPLIES, CONFIRMS, NACKS, TIMEOUTS = range(8)
ERRORS, GAVE_UPS, IN_DOUBTS, ACKNOWLEDGED, SENT_IDS, LATE_REPLIES, DUP_REPLIES, LIVES = range(8, 16)
RESPONDERS_FLAG = 16
FLAGS2_FLAG = 17  # 1 when the file has the second flag bytes
# second flag byte per sequence number
RETURNED = 1  # the broker returned it: unroutable (mandatory), a publish error the client saw
CONFIRMED = 2  # the broker confirmed it (a request's confirm, which acknowledges nothing alone)
ERROR_KINDS = ("refused", "reset", "timeout", "http", "malformed", "gave-up", "unroutable",
               "connection", "nack", "channel-closed", "other", "smtp-4xx", "smtp-5xx")
ERROR_KIND_BASE = 20  # 20..32
PEER_REPLIES_BASE = 34  # replies per peer index, 34..63
MAX_PEERS = SLOTS - PEER_REPLIES_BASE

COUNTER_NAMES = {
    "attempts": ATTEMPTS, "retries": RETRIES, "replies": REPLIES, "confirms": CONFIRMS,
    "nacks": NACKS, "timeouts": TIMEOUTS, "errors": ERRORS, "gave_up": GAVE_UPS,
    "in_doubt_marked": IN_DOUBTS, "acknowledged": ACKNOWLEDGED, "sent": SENT_IDS,
    "late_replies": LATE_REPLIES, "duplicate_replies": DUP_REPLIES, "lives": LIVES,
}


def _size(capacity: int, responders: bool, flags2: bool = True) -> int:
    return HEAD + capacity + (capacity * 4 if responders else 0) + (capacity if flags2 else 0)


class ClientRecorder:
    """Records a client's events per message ID; every method is cheap and thread-safe.

    Drivers call it from their send and receive paths (see engines.transports).
    """

    def __init__(self, path: Path, capacity: int, responders: bool = False) -> None:
        self.path = Path(path)
        exists = self.path.exists() and self.path.stat().st_size >= HEAD
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if exists:
                with open(self.path, "rb") as fh:
                    head = fh.read(HEAD)
                if head[:8] != MAGIC:
                    raise ValueError(f"{self.path} is not a client record file")
                capacity = int.from_bytes(head[8:16], "little", signed=True)
                responders = bool(int.from_bytes(head[8 + RESPONDERS_FLAG * 8:8 + RESPONDERS_FLAG * 8 + 8],
                                                 "little", signed=True))
                flags2 = bool(int.from_bytes(head[8 + FLAGS2_FLAG * 8:8 + FLAGS2_FLAG * 8 + 8],
                                             "little", signed=True))
            else:
                flags2 = True
                os.ftruncate(fd, _size(capacity, responders))
            self._mm = mmap.mmap(fd, _size(capacity, responders, flags2))
            tf.no_readahead(self._mm)
        finally:
            os.close(fd)
        self._mv = memoryview(self._mm)
        if not exists:
            self._mv[:8] = MAGIC
        self.c = self._mv[8:HEAD].cast("q")
        self.status = self._mv[HEAD:HEAD + capacity]
        masks_end = HEAD + capacity + (capacity * 4 if responders else 0)
        self.masks = self._mv[HEAD + capacity:masks_end].cast("I") if responders else None
        self.flags = self._mv[masks_end:masks_end + capacity] if flags2 else None
        self.capacity = capacity
        if not exists:
            self.c[CAPACITY] = capacity
            self.c[RESPONDERS_FLAG] = 1 if responders else 0
            self.c[FLAGS2_FLAG] = 1
        self.c[LIVES] += 1
        self.latency = Histogram()
        self._held = HeldLatencies(self.latency)  # reply latencies: added at the next snapshot
        self.extra: dict[str, int] = {}
        self._lock = threading.Lock()
        self._ones = b"\x01" * 4096
        self.trace: tf.TraceWriter | None = None  # the message trace (engines.nodes.tracefile)
        self._base = 0  # client_index << 32: message IDs in the trace

    def attach_trace(self, trace: tf.TraceWriter, client_index: int) -> None:
        """Record every event of every message (or, in ANOMALIES mode, of the unusual ones) in `trace`."""
        self.trace, self._base = trace, client_index << 32

    def _t(self, kind: int, seq: int, flags: int = 0, aux: int = 0, now: int = 0) -> None:
        trace = self.trace
        if trace is not None and seq >= 0:
            trace.add(now or time.monotonic_ns(), kind, self._base | seq, 0, flags, aux)

    def _t_ack(self, seq: int, flags: int, aux: int, now: int) -> None:
        """An answer: always traced in ALL mode; in ANOMALIES mode only for a sampled or unusual ID."""
        trace = self.trace
        if trace is not None and (trace.mode == tf.ALL or seq % trace.sample == 0
                                  or self.status[seq] & ~(SENT | ACKED)):
            trace.add(now, tf.ACK, self._base | seq, 0, flags, aux)

    # -- where to start -------------------------------------------------------
    def resume_point(self) -> int:
        """First sequence never attempted: a restarted client goes on from there."""
        return int(self.c[NEXT])

    # -- sending ------------------------------------------------------------------
    def sent(self, seq: int) -> None:
        """First attempt of `seq` (call before sending it)."""
        with self._lock:
            st = self.status
            if not st[seq] & SENT:
                st[seq] |= SENT
                self.c[SENT_IDS] += 1
            self.c[ATTEMPTS] += 1
            if seq >= self.c[NEXT]:
                self.c[NEXT] = seq + 1
            if self.trace is not None:
                self._t(tf.SEND, seq)

    def sent_range(self, first: int, n: int) -> None:
        """First attempts of `first .. first+n-1`, never sent before (the batching path)."""
        with self._lock:
            end = first + n
            while first < end:
                k = min(end - first, len(self._ones))
                self.status[first:first + k] = self._ones[:k]
                first += k
            self.c[SENT_IDS] += n
            self.c[ATTEMPTS] += n
            if end > self.c[NEXT]:
                self.c[NEXT] = end
            if self.trace is not None:
                self._t(tf.SEND, end - n, tf.F_RANGE, n)

    def withdraw_range(self, first: int, n: int) -> None:
        """Undo `sent_range` for messages never handed to the transport (a clean stop while the
        send was blocked): they were not attempted after all."""
        with self._lock:
            self.status[first:first + n] = bytes(n)
            self.c[SENT_IDS] -= n
            self.c[ATTEMPTS] -= n
            if self.c[NEXT] == first + n:
                self.c[NEXT] = first

    def retry(self, seq: int) -> None:
        """A resend of an ID already sent (same ID, next attempt)."""
        with self._lock:
            self.status[seq] |= RETRIED
            self.c[RETRIES] += 1
            self.c[ATTEMPTS] += 1
            self._t(tf.RETRY, seq)

    # -- outcomes -----------------------------------------------------------------
    def _acked(self, seq: int, ts_ns: int, now: int) -> None:
        if not self.status[seq] & ACKED:
            self.status[seq] |= ACKED
            self.c[ACKNOWLEDGED] += 1
        self._held.add(now - ts_ns)  # an HdrHistogram add is a lockstep client's largest cost

    def reply(self, seq: int, ts_ns: int, peer: int = -1) -> None:
        """A reply for `seq`; `ts_ns` is the send time echoed back (latency)."""
        now = time.monotonic_ns()
        with self._lock:
            self.c[REPLIES] += 1
            if 0 <= peer < MAX_PEERS:
                self.c[PEER_REPLIES_BASE + peer] += 1
                if self.masks is not None and peer < 32:
                    self.masks[seq] |= 1 << peer
            self._acked(seq, ts_ns, now)
            if self.trace is not None:
                self._t_ack(seq, tf.F_REPLY, peer, now)

    def ack(self, seq: int, ts_ns: int) -> None:
        """The system has `seq` (an HTTP 202, an ack without a reply body)."""
        now = time.monotonic_ns()
        with self._lock:
            self._acked(seq, ts_ns, now)
            if self.trace is not None:
                self._t_ack(seq, 0, 0, now)

    def confirm(self, seq: int, ts_ns: int) -> None:
        """A publisher confirm for `seq`."""
        now = time.monotonic_ns()
        with self._lock:
            self.c[CONFIRMS] += 1
            self._acked(seq, ts_ns, now)
            if self.trace is not None:
                self._t_ack(seq, tf.F_CONFIRM, 0, now)

    def confirmed(self, seq: int) -> None:
        """A publisher confirm that acknowledges nothing by itself (a request waits for its reply)."""
        with self._lock:
            self.c[CONFIRMS] += 1
            if self.flags is not None:
                self.flags[seq] |= CONFIRMED
            if self.trace is not None:
                self._t_ack(seq, tf.F_CONFIRM | tf.F_NOACK, 0, time.monotonic_ns())

    def nack(self, seq: int) -> None:
        """The broker refused `seq` (Basic.Nack): an error of kind 'nack' the client saw."""
        with self._lock:
            self.status[seq] |= NACKED
            self.c[NACKS] += 1
            self._t(tf.NACK, seq)
        self.error(seq, "nack")

    def returned(self, seq: int) -> None:
        """The broker returned `seq` as unroutable (mandatory): an error of kind 'unroutable'."""
        with self._lock:
            if self.flags is not None:
                self.flags[seq] |= RETURNED
        self.error(seq, "unroutable")

    def timeout(self, seq: int) -> None:
        with self._lock:
            self.status[seq] |= TIMEOUT
            self.c[TIMEOUTS] += 1
            self._t(tf.TIMEOUT, seq)

    def error(self, seq: int, kind: str = "other") -> None:
        """An error the client saw for `seq` (kind: one of ERROR_KINDS)."""
        with self._lock:
            if seq >= 0:
                self.status[seq] |= ERROR
            self.c[ERRORS] += 1
            i = ERROR_KINDS.index(kind if kind in ERROR_KINDS else "other")
            self.c[ERROR_KIND_BASE + i] += 1
            self._t(tf.ERROR, seq, 0, i)

    def gave_up(self, seq: int) -> None:
        """No more retries for `seq`: counted as an error of kind 'gave-up'."""
        with self._lock:
            self.status[seq] |= GAVE_UP
            self.c[GAVE_UPS] += 1
            self._t(tf.GAVE_UP, seq)
        self.error(seq, "gave-up")

    def in_doubt(self, seq: int) -> None:
        """The client cannot know whether the system has `seq` (e.g. unconfirmed at a disconnect)."""
        with self._lock:
            if not self.status[seq] & IN_DOUBT:
                self.status[seq] |= IN_DOUBT
                self.c[IN_DOUBTS] += 1
            self._t(tf.IN_DOUBT, seq)

    def late_reply(self, seq: int) -> None:
        with self._lock:
            self.c[LATE_REPLIES] += 1

    def duplicate_reply(self, seq: int) -> None:
        with self._lock:
            self.c[DUP_REPLIES] += 1

    def count(self, name: str, n: int = 1) -> None:
        """Any other counter a driver wants to report (kept in memory, sent as telemetry)."""
        with self._lock:
            self.extra[name] = self.extra.get(name, 0) + n

    def is_acked(self, seq: int) -> bool:
        return bool(self.status[seq] & ACKED)

    # -- reading --------------------------------------------------------------------
    def snapshot(self) -> dict[str, object]:
        """Counters for telemetry (cumulative over the file, i.e. over all lives)."""
        with self._lock:
            counters = {name: int(self.c[slot]) for name, slot in COUNTER_NAMES.items()}
            counters.update(self.extra)
            kinds = {k: int(self.c[ERROR_KIND_BASE + i]) for i, k in enumerate(ERROR_KINDS)
                     if self.c[ERROR_KIND_BASE + i]}
            peers = [int(self.c[PEER_REPLIES_BASE + i]) for i in range(MAX_PEERS)]
            self._held.fold()
            hist = self.latency.to_wire()
        while peers and not peers[-1]:
            peers.pop()
        return {"c": counters, "errors_by_kind": kinds, "peer_replies": peers, "h": hist}

    def close(self) -> None:
        """Flush and unmap (the kernel would keep the pages anyway)."""
        if self.trace is not None:
            self.trace.close()
            self.trace = None
        for view in (self.flags, self.masks, self.status, self.c):
            if view is not None:
                view.release()
        self._mv.release()
        self._mm.flush()
        self._mm.close()


@dataclass
class RecordFile:
    """A client record file as the ledger reads it."""

    counters: dict[str, int]
    errors_by_kind: dict[str, int]
    peer_replies: list[int]
    status: bytes
    masks: bytes | None
    next_seq: int
    flags: bytes | None = None  # RETURNED, CONFIRMED per sequence


def read(path: Path) -> RecordFile:
    """Read a record file (after the run, or after the client was killed): only the
    sequences ever attempted, so a large sparse file costs nothing."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD)
        if head[:8] != MAGIC or len(head) < HEAD:
            raise ValueError(f"{path} is not a client record file")
        slots = memoryview(head)[8:HEAD].cast("q")
        capacity, used = int(slots[CAPACITY]), int(slots[NEXT])
        counters = {name: int(slots[slot]) for name, slot in COUNTER_NAMES.items()}
        kinds = {k: int(slots[ERROR_KIND_BASE + i]) for i, k in enumerate(ERROR_KINDS)
                 if slots[ERROR_KIND_BASE + i]}
        peers = [int(slots[PEER_REPLIES_BASE + i]) for i in range(MAX_PEERS)]
        status = fh.read(used)
        masks = flags = None
        if slots[RESPONDERS_FLAG]:
            fh.seek(HEAD + capacity)
            masks = fh.read(used * 4)
        if slots[FLAGS2_FLAG]:
            fh.seek(HEAD + capacity + (capacity * 4 if slots[RESPONDERS_FLAG] else 0))
            flags = fh.read(used)
    return RecordFile(counters, kinds, peers, status, masks, used, flags)
