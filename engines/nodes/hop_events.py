"""A service's events downstream: a queue-fed pacer that lets any client driver send them, and the outbox relay.

An event hop reuses the client driver of its (transport, style) unchanged: the
driver takes sequence numbers from `QueuePacer` instead of a rate pacer, and
the handler (dual write: right after its commit) or the outbox relay puts
them there. The relay is a thread of the service process: it reads outbox rows
its own transaction wrote (engines.nodes.store), hands them to the hop's
driver, and marks them sent once the hop's record says the message went out
(acknowledged, where the transport acknowledges). A crash between the send and
the mark sends the row again after a restart: a duplicate that the next
idempotent consumer refuses.
"""

from __future__ import annotations

import collections
import logging
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engines import transports
from engines.nodes import records
from engines.nodes.records import ClientRecorder
from engines.transports.base import CLIENT, ClientConfig, ClientContext, Peer

POLL_S = 0.02


class QueuePacer:
    """The Pacer protocol over a queue of sequence numbers: `take` hands out what was put.

    The queue holds runs (ranges), not numbers: a batch's events are usually consecutive
    numbers, so a put and a take cost a step per run, not per message."""

    rate = 0.0
    idle_s = POLL_S  # what `next_due_in` answers while the queue is empty

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self._queue: collections.deque[range] = collections.deque()
        self._queued = 0  # numbers in the queue's runs
        self._ready = threading.Condition()

    def put(self, seqs: Sequence[int]) -> None:
        if not seqs:
            return
        first = seqs[0]
        run = range(first, first + len(seqs))
        with self._ready:
            if list(run) == list(seqs):  # consecutive (compared in C)
                self._queue.append(run)
            else:
                self._queue.extend([range(s, s + 1) for s in seqs])
            self._queued += len(seqs)
            self._ready.notify()

    def __len__(self) -> int:
        return self._queued

    @property
    def finished(self) -> bool:
        return self.stop.is_set()

    def take(self, max_n: int = 1) -> range:
        """The next run of consecutive queued numbers (at most max_n); blocks until one or stop."""
        max_n = max(1, max_n)
        with self._ready:
            queue = self._queue
            while not queue:
                if self.stop.is_set():
                    return range(0)
                self._ready.wait(0.05)
            head = queue.popleft()
            first, stop = head.start, head.stop
            while stop - first < max_n and queue and queue[0].start == stop:
                stop = queue.popleft().stop
            if stop - first > max_n:  # the rest of the last run stays at the head
                queue.appendleft(range(first + max_n, stop))
                stop = first + max_n
            self._queued -= stop - first
            return range(first, stop)

    def next_due_in(self) -> float:
        return 0.0 if self._queue else self.idle_s


class HopEvent:
    """One event hop sender: a client driver in a thread, fed by `emit`."""

    def __init__(self, hop: Mapping[str, Any], node_dir: Path, clients: Mapping[str, int],
                 log: logging.Logger) -> None:
        self.hop = hop
        self.index, self.link, self.outbox = int(hop["index"]), str(hop["link"]), hop["delivery"] == "outbox"
        self.stop = threading.Event()
        self.pacer = QueuePacer(self.stop)
        self.recorder = ClientRecorder(node_dir / f"hop-{self.index}.rec", int(hop["capacity"]))
        config = ClientConfig(name=str(hop["name"]), style=str(hop["style"]),
                              transport=str(hop["transport"]), rate=0.0, count=None,
                              payload_bytes=0, persistent=bool(hop.get("durable", True)))
        self.acknowledges = transports.acknowledges(config.transport, config.style,
                                                    {"confirms": config.confirms})
        self.ctx = ClientContext(config=config, client_index=self.index,
                                 peers=[Peer(**p) for p in hop["peers"]], listen={},
                                 pacer=self.pacer, recorder=self.recorder, stop=self.stop,
                                 log=log, payload=b"", clients=clients)
        self.log = log
        self.thread = threading.Thread(target=self._run, name=f"hop-{self.link}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        try:
            transports.driver(self.ctx.config.transport, self.ctx.config.style, CLIENT).run(self.ctx)
        except Exception:  # noqa: BLE001 - the hop's messages stay unsent; the ledger counts them lost
            self.log.exception("hop sender %s failed", self.link)

    def emit(self, seqs: list[int]) -> None:
        self.pacer.put(seqs)

    def gone_out(self, seq: int) -> bool:
        """Whether `seq` left this service (acknowledged where the transport acknowledges)."""
        if self.acknowledges:
            return self.recorder.is_acked(seq)
        return bool(self.recorder.status[seq] & records.SENT)

    def close(self, wait_s: float) -> None:
        """Let the driver send what is queued (up to wait_s), then stop it."""
        waited = 0.0
        while len(self.pacer) and waited < wait_s and self.thread.is_alive():
            threading.Event().wait(POLL_S)
            waited += POLL_S
        self.stop.set()
        self.thread.join(timeout=3.0)


class Relay:
    """The transactional outbox's relay: publish unsent rows, mark them sent once they went out."""

    def __init__(self, db_path: Path, hops: Mapping[int, HopEvent], stop: threading.Event,
                 log: logging.Logger) -> None:
        self.db_path, self.hops, self.stop, self.log = db_path, hops, stop, log
        self.thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        db = sqlite3.connect(str(self.db_path), isolation_level=None)
        last = 0
        pending: dict[int, tuple[int, int]] = {}  # outbox row -> (hop index, seq)
        try:
            while not self.stop.wait(POLL_S):
                rows = db.execute("SELECT id, hop, seq FROM outbox WHERE sent = 0 AND id > ? "
                                  "ORDER BY id LIMIT 4096", (last,)).fetchall()
                by_hop: dict[int, list[int]] = {}
                for row_id, hop, seq in rows:
                    if hop in self.hops:
                        by_hop.setdefault(hop, []).append(seq)
                        pending[row_id] = (hop, seq)
                    last = row_id
                for hop, seqs in by_hop.items():
                    self.hops[hop].emit(seqs)
                done = [r for r, (hop, seq) in pending.items() if self.hops[hop].gone_out(seq)]
                if done:
                    db.execute("UPDATE outbox SET sent = 1 WHERE id IN (SELECT value FROM json_each(?))",
                               ("[" + ",".join(map(str, done)) + "]",))
                    for r in done:
                        del pending[r]
        except sqlite3.Error:
            self.log.exception("the outbox relay stopped")
        finally:
            db.close()

