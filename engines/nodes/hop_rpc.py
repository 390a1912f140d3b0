"""A service's calls over zmq (REQ/DEALER) and amqp RPC: the client driver of the style, fed by the callers.

A call hop over zmq or amqp reuses the client driver of its (transport, style)
unchanged, as an event hop does (engines.nodes.hop_events), so it has the
settings and behaviour of a client of that style: Lazy Pirate retries and a
reopened socket for zmq request-response, `in_flight` requests matched by
sequence for async request-response, reply_to + correlation_id, publisher
confirms and resends of what is in doubt for amqp RPC. The callers (the
service's request threads, or a batch driver for all of a batch at once) put
their downstream sequence numbers on the driver's queue and wait until the
hop's record says the call was answered (a reply) or failed (gave up,
returned, nacked out). The same bulkhead, breaker and counters as an http
call (engines.nodes.downstream) wrap each call.

A caller never waits unbounded with a timeout set: a call still queued after
its whole budget (timeout x (retries + 1)) is withdrawn unsent and fails (a
request-response driver sends one call at a time, so a slow downstream makes
the queue grow: the pile-up); one already sent waits for the driver's own
verdict, which its timeout bounds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engines import transports
from engines.nodes.hop_events import QueuePacer
from engines.nodes.records import ClientRecorder
from engines.nodes.resilience import Breaker, Bulkhead
from engines.nodes.stats import ServiceStats
from engines.transports.base import CLIENT, ClientConfig, ClientContext, GiveUp, Peer

IDLE_S = 0.005  # how often an idle driver looks at its queue (DEALER, amqp: they poll)
FOREVER_MS = 86_400_000  # timeout_ms 0 (wait forever) as the driver's timeout: a day
GRACE_S = 2.0  # a sent call's driver verdict may come this long after its budget


class CallPacer(QueuePacer):
    """The Pacer protocol over the callers' queue; `take` never blocks while others may come."""

    rate = 1.0  # > 0: the DEALER driver asks `next_due_in` instead of blocking in `take`
    idle_s = IDLE_S

    def withdraw(self, seq: int) -> bool:
        """Take `seq` back if the driver has not taken it yet."""
        with self._ready:
            queue = self._queue
            at = next((i for i, run in enumerate(queue) if seq in run), -1)  # its first place, as remove()
            if at < 0:
                return False
            run = queue[at]
            del queue[at]
            if seq + 1 < run.stop:  # the run splits around it, in place
                queue.insert(at, range(seq + 1, run.stop))
            if run.start < seq:
                queue.insert(at, range(run.start, seq))
            self._queued -= 1
            return True


class _Waiter:
    __slots__ = ("ok",)

    def __init__(self) -> None:
        self.ok: bool | None = None


class CallRecorder(ClientRecorder):
    """The hop's record file, telling waiting callers each call's verdict as the driver records it."""

    def __init__(self, path: Path, capacity: int) -> None:
        super().__init__(path, capacity)
        self.waiting: dict[int, list[_Waiter]] = {}
        self.verdict = threading.Condition()

    def _decide(self, seq: int, ok: bool) -> None:
        with self.verdict:
            waiters = self.waiting.pop(seq, None)
            if waiters:
                for w in waiters:
                    w.ok = ok
                self.verdict.notify_all()

    def reply(self, seq: int, ts_ns: int, peer: int = -1) -> None:
        super().reply(seq, ts_ns, peer)
        self._decide(seq, True)

    def gave_up(self, seq: int) -> None:
        super().gave_up(seq)
        self._decide(seq, False)

    def returned(self, seq: int) -> None:
        super().returned(seq)
        self._decide(seq, False)


class HopRpc:
    """One call hop sender over zmq or amqp: its driver thread, bulkhead and breaker."""

    def __init__(self, hop: Mapping[str, Any], node_dir: Path, stats: ServiceStats,
                 clients: Mapping[str, int], log: logging.Logger,
                 changed: Callable[[str, str], None], service_stop: threading.Event) -> None:
        self.link, self.index, self.stats = str(hop["link"]), int(hop["index"]), stats
        self.style, self.transport = str(hop["style"]), str(hop["transport"])
        self.retries = int(hop["retries"])
        timeout_ms = int(hop["timeout_ms"])
        self.budget_s: float | None = timeout_ms * (self.retries + 1) / 1000.0 if timeout_ms else None
        self.stop = threading.Event()
        self.service_stop = service_stop  # a stopping service's callers stop waiting (their calls fail)
        self.pacer = CallPacer(self.stop)
        self.recorder = CallRecorder(node_dir / f"hop-{self.index}.rec", int(hop["capacity"]))
        config = ClientConfig(name=str(hop["name"]), style=self.style, transport=self.transport,
                              rate=0.0, count=None, payload_bytes=0,
                              timeout_ms=timeout_ms or FOREVER_MS, retries=self.retries,
                              in_flight=int(hop.get("in_flight", 100)),
                              persistent=bool(hop.get("durable", True)))
        self.ctx = ClientContext(config=config, client_index=self.index,
                                 peers=[Peer(**p) for p in hop["peers"]], listen={},
                                 pacer=self.pacer, recorder=self.recorder, stop=self.stop,
                                 log=log, payload=b"", clients=clients)
        self.log = log
        self.bulkhead = Bulkhead(int(hop["max_concurrent"]))
        self.breaker = Breaker(int(hop["breaker_failures"]), int(hop["breaker_open_ms"]), changed)
        self.thread = threading.Thread(target=self._run, name=f"call-{self.link}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        run = transports.driver(self.transport, self.style, CLIENT).run
        while not self.stop.is_set():
            try:
                run(self.ctx)
                return
            except GiveUp as exc:  # a Lazy Pirate out of retries: that call failed, the hop goes on
                self.log.warning("call hop %s: %s", self.link, exc)
            except Exception:  # noqa: BLE001 - its callers fail on their budget; reported
                self.log.exception("call hop %s failed", self.link)
                self.stop.wait(0.5)

    # -- calls --------------------------------------------------------------------------
    def call(self, seq: int) -> bool:
        return self.call_many([seq])[0]

    def call_many(self, seqs: Sequence[int]) -> list[bool]:
        """Call downstream for every seq at once; True where it answered (in order)."""
        results: list[bool] = [False] * len(seqs)
        admitted: list[tuple[int, int, _Waiter]] = []  # (position, seq, waiter)
        for i, seq in enumerate(seqs):
            if not self.bulkhead.enter():
                self.stats.count(f"rejected_bulkhead|{self.link}")
                continue
            if not self.breaker.allow():
                self.bulkhead.leave()
                self.stats.count(f"short_circuited|{self.link}")
                continue
            w = _Waiter()
            with self.recorder.verdict:
                self.recorder.waiting.setdefault(seq, []).append(w)
            admitted.append((i, seq, w))
        if not admitted:
            return results
        self.stats.gauge(f"calls_in_flight|{self.link}", self.bulkhead.active)
        try:
            self.pacer.put([seq for _i, seq, _w in admitted])
            self._wait(admitted)
        finally:
            for i, _seq, w in admitted:
                results[i] = bool(w.ok)
                if w.ok:
                    self.breaker.success()
                else:
                    self.breaker.failure()
                self.bulkhead.leave()
            self._forget(admitted)
            self.stats.gauge(f"calls_in_flight|{self.link}", self.bulkhead.active)
        return results

    def _wait(self, admitted: list[tuple[int, int, _Waiter]]) -> None:
        start = time.monotonic()
        queue_deadline = None if self.budget_s is None else start + self.budget_s
        final_deadline = None if self.budget_s is None else start + 2 * self.budget_s + GRACE_S
        withdrawn = False
        rec = self.recorder
        with rec.verdict:
            while not all(w.ok is not None for _i, _s, w in admitted):
                if self.stop.is_set() or self.service_stop.is_set():
                    return
                now = time.monotonic()
                if queue_deadline is not None and now >= queue_deadline and not withdrawn:
                    withdrawn = True
                    for _i, seq, w in admitted:  # still queued: never sent, failed here
                        if w.ok is None and self.pacer.withdraw(seq):
                            w.ok = False
                            self.stats.count(f"call_queue_timeouts|{self.link}")
                    continue
                if final_deadline is not None and now >= final_deadline:
                    for _i, _seq, w in admitted:
                        if w.ok is None:
                            w.ok = False
                            self.stats.count(f"call_verdict_timeouts|{self.link}")
                    return
                rec.verdict.wait(0.05)

    def _forget(self, admitted: list[tuple[int, int, _Waiter]]) -> None:
        with self.recorder.verdict:
            for _i, seq, w in admitted:
                waiters = self.recorder.waiting.get(seq)
                if waiters and w in waiters:
                    waiters.remove(w)
                    if not waiters:
                        del self.recorder.waiting[seq]

    def close(self) -> None:
        self.stop.set()
        with self.recorder.verdict:
            self.recorder.verdict.notify_all()
        self.thread.join(timeout=5.0)
