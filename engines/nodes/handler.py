"""A service's message handler: processing time, the SQLite transaction, the configured crash.

Every transport calls this and nothing else to process messages, so
idempotency and crash behaviour are written once. The order is the one the
seed's failure needs: work, write the business row (and PROCESSED_MESSAGES),
commit, and only then return so the driver replies or acks. A crash
`after-commit` happens between the commit and that return: the effect is
durable but the sender never hears of it, so it resends. A crash
`after-reply` (amqp RPC servers) waits until the driver has published the
reply and dies before the ack: the client has its answer, the broker
redelivers the request. The message a crash names commits alone (`room`), so
what the crash duplicates is that one message.

The crash is one-shot per run: a marker file in the node's directory tells a
restarted service that it already crashed.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING

from engines.nodes.split import MODES as SPLIT_MODES
from engines.nodes.split import SplitWriter
from engines.nodes.stats import ServiceStats
from engines.nodes.store import Store
from engines.nodes.trace_service import trace_batch
from engines.nodes.tracefile import TraceWriter
from engines.transports.base import CALL_FAILED, DUPLICATE, EXIT_CRASH, DeliveryRow, ServiceConfig
from engines.transports.delivery import plain_run

if TYPE_CHECKING:  # a service without outgoing links never loads it (its HTTP pulls in ssl)
    from engines.nodes.downstream import Downstream

_CLIENT, _REDELIVERED, _TS = itemgetter(0), itemgetter(3), itemgetter(4)
ANSWER_WAIT_S = 10.0  # a crash due next waits at most this long for earlier messages' answers
_FAILED = -1  # a group commit that raised: every delivery in it gets this, and raises in its thread



class _Slot:
    """One delivery handed to `Handler.handle`, and its outcome once a group commit decided it."""

    __slots__ = ("delivery", "outcome")

    def __init__(self, delivery: DeliveryRow) -> None:
        self.delivery = delivery
        self.outcome: int | None = None

    def done(self) -> bool:
        return self.outcome is not None


class Handler:
    """`handle_batch` for single-threaded drivers, `handle` for many threads (group commit)."""

    def __init__(self, config: ServiceConfig, store: Store, stats: ServiceStats,
                 crash_marker: Path, log: logging.Logger) -> None:
        self.config = config
        self.store = store
        self.stats = stats
        self.log = log
        self.crash_marker = Path(crash_marker)
        crash = config.crash or None
        self.crash_after: int | None = int(crash["after"]) if crash else None
        self.crash_point: str = str(crash.get("point", "after-commit")) if crash else ""
        if self.crash_after is not None and self.crash_marker.exists():
            self.crash_after = None  # it crashed earlier in this run: one-shot
        self.handled = 0  # deliveries handled by this process life
        self._lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending: list[_Slot] = []
        self._answers = threading.Condition(self._pending_lock)
        self._unanswered = 0  # deliveries `handle` decided whose callers have not yet answered
        self._answer_deadline: float | None = None  # a crash due next waits for answers until then
        self._answers_told = False  # only a driver that calls `answered` (HTTP) is waited for
        self._rng = random.Random()
        self.downstream: Downstream | None = None  # a service's outgoing links (set by the node)
        self.trace: TraceWriter | None = None  # per-message trace (engines.nodes.tracefile)
        split = config.idempotent and config.transaction in SPLIT_MODES
        self._reply_crash_due = False
        self._split = SplitWriter(store.db, config.transaction) if split else None

    def reply_crash_due(self) -> bool:
        """True once the message of an `after-reply` crash is committed: the driver publishes its
        reply, does not ack the request, and lets its connection write the reply before
        calling `crash_after_reply`."""
        return self._reply_crash_due

    def crash_after_reply(self) -> None:
        if self._reply_crash_due:
            self._crash("after publishing its reply, before acking the request")

    def room(self, n: int) -> int:
        """How many of the next `n` deliveries to take into one transaction.

        All of them, except when the configured crash is due among them: then
        the deliveries before the named message form a batch of their own (the
        driver replies to or acks them), and the named message commits alone,
        so a crash after its commit makes one duplicate, not a batch of them.
        """
        if self.crash_after is None or n <= 1:
            return n
        position = self.crash_after - self.handled  # 1 = the next delivery is the named one
        if position <= 1:
            return 1
        return min(n, position - 1)

    # -- processing time ----------------------------------------------------------
    def work_seconds(self, n: int) -> float:
        """Time the business logic takes for n messages, drawn from the configured distribution."""
        ms = self.config.processing_ms
        if ms <= 0 or n <= 0:
            return 0.0
        kind = self.config.processing
        if kind == "uniform":
            total = sum(self._rng.uniform(0, 2 * ms) for _ in range(n))
        elif kind == "exponential":
            total = sum(self._rng.expovariate(1.0 / ms) for _ in range(n))
        else:
            total = ms * n
        return total / 1000.0

    def heavy_seconds(self, deliveries: Sequence[DeliveryRow]) -> float:
        """Extra work for the heavy messages (every `heavy_every`-th by sequence number), counted."""
        every = self.config.heavy_every
        if not every:
            return 0.0
        heavy = sum(1 for d in deliveries if (d[1] + 1) % every == 0)
        if heavy:
            self.stats.count("heavy", heavy)
        return heavy * self.config.heavy_ms / 1000.0

    # -- the transaction ----------------------------------------------------------
    def handle_batch(self, deliveries: Sequence[DeliveryRow]) -> list[int]:
        """Work, write and commit a batch; return one outcome per delivery (APPLIED or DUPLICATE,
        or CALL_FAILED where the service's call downstream did not answer: not committed)."""
        if self.downstream is not None and self.downstream.calls:
            return self._with_calls(deliveries)
        with self._lock:
            return self._locked(deliveries, work=True)

    def _with_calls(self, deliveries: Sequence[DeliveryRow]) -> list[int]:
        """Work, then the batch's calls downstream (outside the lock: other threads commit
        meanwhile), then commit the deliveries whose calls answered."""
        pause = self.work_seconds(len(deliveries)) + self.heavy_seconds(deliveries)
        if pause:
            time.sleep(pause)
        assert self.downstream is not None
        answered = self.downstream.call_batch(deliveries)
        passed = [d for d, ok in zip(deliveries, answered, strict=True) if ok]
        failed = len(deliveries) - len(passed)
        if failed:
            self.stats.count("downstream_failed", failed)
        with self._lock:
            done = iter(self._locked(passed, work=False))
        return [next(done, CALL_FAILED) if ok else CALL_FAILED for ok in answered]

    def handle(self, delivery: DeliveryRow) -> int:
        """Thread-safe single delivery: work in the caller's thread, commit with whoever waits."""
        pause = self.work_seconds(1) + self.heavy_seconds((delivery,))
        if pause:
            time.sleep(pause)
        if self.downstream is not None and self.downstream.calls:  # raises DownstreamFailed
            self.downstream.call(delivery[0], delivery[1])
        slot = _Slot(delivery)
        with self._pending_lock:
            self._pending.append(slot)
        while not slot.done():
            if self._answers_due():  # the named message is next: what committed before it is
                self._await_answers()  # answered first (outside the lock: they may need it)
                continue
            with self._lock:
                if slot.done():
                    break
                if self._answers_due():
                    continue
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                    take = self.room(len(batch))  # the message a crash names commits alone
                    batch, self._pending = batch[:take], batch[take:] + self._pending
                if not batch:
                    continue
                try:
                    outcomes = self._locked([s.delivery for s in batch], work=False)
                except Exception:
                    outcomes = [_FAILED] * len(batch)  # nobody waits forever on a failed batch
                with self._pending_lock:
                    self._unanswered += len(batch)
                for s, outcome in zip(batch, outcomes, strict=True):
                    s.outcome = outcome
        if slot.outcome == _FAILED:
            raise RuntimeError("the transaction this delivery was part of failed (see the node log)")
        return int(slot.outcome or 0)

    def answered(self) -> None:
        """A caller of `handle` has answered its sender (an HTTP response written, or failed)."""
        with self._answers:
            self._answers_told = True
            self._unanswered = max(0, self._unanswered - 1)
            self._answers.notify_all()

    def _answers_due(self) -> bool:
        """Whether the next delivery is the one a crash names and threads whose messages committed
        before it have yet to answer (bounded: ANSWER_WAIT_S after this was first seen)."""
        if self.crash_after is None or self.crash_after != self.handled + 1 or not self._answers_told:
            return False  # (a driver that never says when it answered, e.g. SMTP, is not waited for)
        with self._answers:
            if self._unanswered <= 0:
                return False
            if self._answer_deadline is None:
                self._answer_deadline = time.monotonic() + ANSWER_WAIT_S
            return time.monotonic() < self._answer_deadline

    def _await_answers(self) -> None:
        """Wait (without the commit lock) until those threads answered, or the bound passed."""
        with self._answers:
            while self._unanswered > 0 and time.monotonic() < (self._answer_deadline or 0.0):
                self._answers.wait(0.05)

    def committed(self, client: int, seq: int) -> bool:
        """Whether a business row for (client, seq) is in the database (any life of the service)."""
        with self._lock:
            return self.store.has_effect(client, seq)

    def _locked(self, deliveries: Sequence[DeliveryRow], work: bool) -> list[int]:
        batch = list(deliveries)
        if not batch:
            return []
        t_in = time.monotonic_ns()
        crash_now = False
        if self.crash_after is not None and self.handled < self.crash_after <= self.handled + len(batch):
            batch = batch[: self.crash_after - self.handled]  # up to and including the Nth
            crash_now = True
        if work:
            pause = self.work_seconds(len(batch)) + self.heavy_seconds(batch)
            if pause:
                time.sleep(pause)
        if crash_now and self.crash_point == "after-reply":
            crash_now = False  # the driver dies in crash_after_reply, once the reply is out
            self._reply_crash_due = True
        trace = self.trace
        plain = self._split is None and len(batch) > 1 and plain_run(batch)  # once for store, trace, counters
        if self._split is not None:  # marker and effect in two transactions (engines.nodes.split)
            outcomes = self._split.write(batch, len(batch) - 1 if crash_now else None,
                                         self.crash_point, self._crash)
            if trace is not None:
                trace_batch(trace, batch, outcomes, t_in, time.monotonic_ns())
        else:
            try:
                outcomes = self.store.write(batch, dedupe=self.config.idempotent, plain=plain)
                if self.downstream is not None and self.downstream.outbox:  # same transaction
                    self.store.add_outbox(self.downstream.outbox_rows(batch, outcomes))
            except Exception:
                self.store.rollback()  # the next batch must not find this transaction open
                self.log.exception("a batch of %d deliveries could not be written", len(batch))
                raise
            if trace is not None and crash_now and self.crash_point == "before-commit":
                trace_batch(trace, batch, None, t_in, 0)
            if crash_now and self.crash_point == "before-commit":
                self._crash("before its commit")
            self.store.commit()
            if trace is not None:
                trace_batch(trace, batch, outcomes, t_in, time.monotonic_ns(), plain)
            if crash_now:
                self._crash("after its commit, before replying or acking")
        self.handled += len(batch)
        if self.downstream is not None:  # the dual write: a crash just above loses these
            self.downstream.after_commit(batch, outcomes)
        now = time.monotonic_ns()
        if len(batch) == 1:  # lockstep: no Counters, dicts or lists for one delivery
            d = batch[0]
            self.stats.delivered_one(d[0], outcomes[0] == DUPLICATE, d[3], now - d[4])
            return outcomes
        dups = outcomes.count(DUPLICATE)
        # counted in C (batch frames share a send time, one-message frames have one each): no
        # Python loop per message
        sent = Counter(map(_TS, batch)) if batch[0][4] == batch[1][4] else list(map(_TS, batch))
        if plain:
            self.stats.delivered({batch[0][0]: len(batch)}, len(batch) - dups, dups, 0, now, sent)
            return outcomes
        self.stats.delivered(Counter(map(_CLIENT, batch)), len(batch) - dups, dups,
                             sum(map(_REDELIVERED, batch)), now, sent)
        return outcomes

    def _crash(self, where: str) -> None:
        """The configured crash: leave the marker, say so once, and die like a killed process."""
        self.crash_marker.write_text(f"crashed on message {self.crash_after} {where}\n")
        self.log.error("configured crash: message %s of this life, %s (exit %s)",
                       self.crash_after, where, EXIT_CRASH)
        for handler in self.log.handlers + logging.getLogger().handlers:
            handler.flush()
        sys.stderr.flush()
        os._exit(EXIT_CRASH)
