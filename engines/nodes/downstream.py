"""A service's outgoing links: calls made inside the handling, events sent after the work (issue 12).

Built from the spec's `hops` (engines.runtime.specs.add_hops): one hop sender
per (outgoing link, origin client), each with its own record file in the
node's directory (`hop-<index>.rec`, the same format as a client's, read by
the ledger). Downstream IDs come from engines.ledger.identity (`HopIds`): the
upstream sequence number, under the hop sender's client index.

- A *call* over http reuses the http client's `exchange`; over zmq or amqp RPC
  it reuses the client driver of its style (engines.nodes.hop_rpc). A
  request thread calls `call(client, seq)` after its work and before its
  commit: a failure (timeout, error, bulkhead full, breaker open) raises
  `CallFailed`, nothing is committed, and the caller gets an error. A batch
  driver calls `call_batch(batch)`: each delivery whose call failed is left
  out of the commit and answered as failed.
- An *event* reuses the client driver of its transport and style, fed by a
  queue (engines.nodes.hop_events): `after_commit` emits (dual write), or
  `in_transaction` writes outbox rows that the relay publishes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from operator import itemgetter
from pathlib import Path
from typing import Any

from engines.ledger.identity import HopIds
from engines.nodes.hop_events import HopEvent, Relay
from engines.nodes.hop_rpc import HopRpc
from engines.nodes.records import ClientRecorder
from engines.nodes.resilience import CLOSED, HALF_OPEN, OPEN, Breaker, Bulkhead
from engines.nodes.stats import ServiceStats
from engines.transports import http_rpc, wire
from engines.transports.base import (
    APPLIED,
    HTTP,
    ClientConfig,
    ClientContext,
    DownstreamFailed,
    Peer,
)
from engines.transports.delivery import DeliveryRow

_CLIENT, _SEQ = itemgetter(0), itemgetter(1)
BREAKER_STATES = (CLOSED, OPEN, HALF_OPEN)  # the live view reads the gauge 'breaker_state|<link>'


class CallFailed(DownstreamFailed):
    """A downstream call that did not answer: the service answers its caller with an error."""


def breaker_changed(stats: ServiceStats, link: str, event: Any) -> Callable[[str, str], None]:
    """Count a breaker's state change, show it on the link, and put it on the run's timeline."""
    def changed(old: str, new: str) -> None:
        stats.count(f"breaker_{new.replace('-', '_')}|{link}")
        stats.gauge(f"breaker_state|{link}", BREAKER_STATES.index(new))
        event("breaker", link=link, state=new, was=old)
    return changed


class HopCall:
    """One call hop sender over http, with its timeout, retries, bulkhead and breaker."""

    def __init__(self, hop: Mapping[str, Any], node_dir: Path, stats: ServiceStats,
                 stop: threading.Event, log: logging.Logger, event: Any) -> None:
        self.link, self.index, self.stats = str(hop["link"]), int(hop["index"]), stats
        self.retries = int(hop["retries"])
        timeout_ms = int(hop["timeout_ms"])
        self.timeout_s: float | None = timeout_ms / 1000.0 if timeout_ms else None
        self.recorder = ClientRecorder(node_dir / f"hop-{self.index}.rec", int(hop["capacity"]))
        peer = Peer(**hop["peers"][0])
        self.address = peer.endpoints[HTTP]
        config = ClientConfig(name=str(hop["name"]), style=str(hop["style"]), transport="http",
                              timeout_ms=max(1, timeout_ms), retries=self.retries, payload_bytes=0)
        self.ctx = ClientContext(config=config, client_index=self.index, peers=[peer], listen={},
                                 pacer=None, recorder=self.recorder, stop=stop, log=log,  # type: ignore[arg-type]
                                 payload=b"")
        self.bulkhead = Bulkhead(int(hop["max_concurrent"]))
        self.breaker = Breaker(int(hop["breaker_failures"]), int(hop["breaker_open_ms"]),
                               breaker_changed(stats, self.link, event))
        self.parallel = str(hop["style"]) == "async-request-response"
        self._pool: ThreadPoolExecutor | None = None  # a batch driver's async calls (keep-alive per thread)
        self._local = threading.local()

    def _conn(self) -> http_rpc.Connection:
        conn: http_rpc.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = http_rpc.Connection(self.address, self.timeout_s)  # type: ignore[arg-type]
            self._local.conn = conn
        return conn

    def call(self, seq: int) -> None:
        """Call downstream for upstream sequence `seq`; raise CallFailed unless it answered."""
        if not self.bulkhead.enter():
            self.stats.count(f"rejected_bulkhead|{self.link}")
            raise CallFailed(f"bulkhead full on {self.link}")
        try:
            if not self.breaker.allow():
                self.stats.count(f"short_circuited|{self.link}")
                raise CallFailed(f"breaker open on {self.link}")
            self.stats.gauge(f"calls_in_flight|{self.link}", self.bulkhead.active)
            self.recorder.sent(seq)
            attempt = 0
            while True:
                outcome = http_rpc.exchange(self.ctx, self._conn(), wire.REQUEST, seq, attempt, 0)
                if outcome == http_rpc.OK:
                    self.breaker.success()
                    return
                if attempt >= self.retries or self.ctx.stop.is_set():
                    self.breaker.failure()
                    raise CallFailed(f"call on {self.link} failed")
                attempt += 1
                self.recorder.retry(seq)
        finally:
            self.bulkhead.leave()
            self.stats.gauge(f"calls_in_flight|{self.link}", self.bulkhead.active)

    def _try(self, seq: int) -> bool:
        try:
            self.call(seq)
        except CallFailed:
            return False
        return True

    def call_many(self, seqs: Sequence[int]) -> list[bool]:
        """A batch's calls: one after the other (request-response), or at once (async)."""
        if not self.parallel or len(seqs) < 2:
            return [self._try(seq) for seq in seqs]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix=f"call-{self.link}")
        return list(self._pool.map(self._try, seqs))

    def start(self) -> None:
        """Nothing to start: the request threads (or the batch pool) make the calls."""

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


class Downstream:
    """Every hop sender of one service, looked up by the upstream client index of a delivery."""

    def __init__(self, hops: Sequence[Mapping[str, Any]], node_dir: Path, db_path: Path,
                 clients: Mapping[str, int], stats: ServiceStats, stop: threading.Event,
                 log: logging.Logger, event: Any) -> None:
        self.calls: dict[int, list[HopCall | HopRpc]] = {}
        self.callers: list[HopCall | HopRpc] = []
        self.events: dict[int, list[HopEvent]] = {}
        self.outbox: dict[int, list[int]] = {}  # upstream client -> outbox hop indices
        self.all_events: dict[int, HopEvent] = {}
        self.ids: dict[int, HopIds] = {}  # hop sender index -> its downstream IDs
        for hop in hops:
            upstream = [int(u) for u in hop["upstream"]]
            self.ids[int(hop["index"])] = HopIds(str(hop["link"]), dict.fromkeys(upstream, int(hop["index"])))
            if hop["call"]:
                sender: HopCall | HopRpc
                if hop["transport"] == "http":
                    sender = HopCall(hop, node_dir, stats, stop, log, event)
                else:
                    sender = HopRpc(hop, node_dir, stats, clients, log,
                                    breaker_changed(stats, str(hop["link"]), event), stop)
                self.callers.append(sender)
                for u in upstream:
                    self.calls.setdefault(u, []).append(sender)
                continue
            ev = HopEvent(hop, node_dir, clients, log)
            self.all_events[ev.index] = ev
            for u in upstream:
                if ev.outbox:
                    self.outbox.setdefault(u, []).append(ev.index)
                else:
                    self.events.setdefault(u, []).append(ev)
        self.relay_stop = threading.Event()
        self.relay = Relay(db_path, {i: e for i, e in self.all_events.items() if e.outbox},
                           self.relay_stop, log) if self.outbox else None

    @property
    def any(self) -> bool:
        return bool(self.calls or self.all_events)

    def start(self) -> None:
        for sender in self.callers:
            sender.start()
        for ev in self.all_events.values():
            ev.start()
        if self.relay is not None:
            self.relay.start()

    def call(self, client: int, seq: int) -> None:
        for hop in self.calls.get(client, ()):
            derived = self.ids[hop.index].downstream(client, seq)
            assert derived is not None  # calls[client] holds only the hops that carry it
            if isinstance(hop, HopRpc):
                if not hop.call(derived[1]):
                    raise CallFailed(f"call on {hop.link} failed")
            else:
                hop.call(derived[1])

    def call_batch(self, batch: Sequence[DeliveryRow]) -> list[bool]:
        """A batch driver's calls, every hop's at once per hop: True where every call answered."""
        ok = [True] * len(batch)
        by_hop: dict[HopCall | HopRpc, list[int]] = {}
        for i, d in enumerate(batch):
            for hop in self.calls.get(d[0], ()):
                by_hop.setdefault(hop, []).append(i)
        for hop, positions in by_hop.items():
            seqs = []
            for i in positions:
                derived = self.ids[hop.index].downstream(batch[i][0], batch[i][1])
                assert derived is not None
                seqs.append(derived[1])
            for i, answered in zip(positions, hop.call_many(seqs), strict=True):
                ok[i] = ok[i] and answered
        return ok

    def outbox_rows(self, batch: Sequence[DeliveryRow], outcomes: Sequence[int]) -> list[tuple[int, int]]:
        """(hop index, seq) rows the transaction writes for its applied deliveries."""
        if not self.outbox:
            return []
        return [(h, self._seq(h, d)) for d, o in zip(batch, outcomes, strict=True) if o == APPLIED
                for h in self.outbox.get(d[0], ())]

    def _seq(self, hop: int, delivery: DeliveryRow) -> int:
        """The downstream sequence number of a delivery on a hop (engines.ledger.identity)."""
        derived = self.ids[hop].downstream(delivery[0], delivery[1])
        assert derived is not None
        return derived[1]

    def after_commit(self, batch: Sequence[DeliveryRow], outcomes: Sequence[int]) -> None:
        """The dual write: emit each applied delivery's events now that its commit is done."""
        if not self.events:
            return
        client = batch[0][0] if batch else -1
        if outcomes.count(APPLIED) == len(batch) and batch[-1][0] == client and \
                len(set(map(_CLIENT, batch))) == 1:  # the usual batch: one client, all applied
            evs = self.events.get(client, ())
            if evs:
                seqs = list(map(_SEQ, batch))  # the same list and order as the loop below makes
                for ev in evs:
                    assert self.ids[ev.index].carries(client)
                    ev.emit(seqs)
            return
        by_hop: dict[HopEvent, list[int]] = {}
        for d, o in zip(batch, outcomes, strict=True):
            if o == APPLIED:
                for ev in self.events.get(d[0], ()):
                    by_hop.setdefault(ev, []).append(self._seq(ev.index, d))
        for ev, seqs in by_hop.items():
            ev.emit(seqs)

    def close(self) -> None:
        """Let queued events and outbox rows go out (a few seconds at most), then stop."""
        if self.relay is not None:
            threading.Event().wait(0.2)  # one more relay pass picks up the last commits
        for ev in self.all_events.values():
            ev.close(wait_s=3.0)
        self.relay_stop.set()
        for sender in self.callers:
            sender.close()
        if self.relay is not None:
            self.relay.thread.join(timeout=2.0)
