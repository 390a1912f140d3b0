"""The end of a run: wait until the services have what the clients sent, or nothing moves.

Called by the supervisor once its clients have stopped, before it stops the
services. A service is caught up when it has committed as many deliveries
from each client as that client sent (every subscriber, for the publish
styles). A mail reader (a route `via` a mail service) counts reads again
after a kill, so it is caught up only when its mailbox has also shown no
unseen mail for MAIL_SETTLE_S; while a mailbox has unseen mail and a reader
alive or restarting to read it, the run is not quiet either. Likewise a queue
whose last sample (at most QUEUE_FRESH_S old) holds ready messages and no
consumer while one of its consumer services is alive or restarting: a consumer
failing over from a paused quorum leader can take longer than the quiet time
on a loaded machine, and the messages it has yet to take are not lost. `drain_timeout_s` bounds both.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from engines.runtime.chain_summary import hops_drained
from engines.runtime.control import POLL_S
from engines.runtime.metrics import Collector
from engines.runtime.proctable import RUNNING, ProcessTable
from engines.runtime.specs import Route, RunPlan
from engines.topology.model import Topology

MAIL_SETTLE_S = 1.5  # the mail service samples its mailboxes every 0.5 s
QUEUE_FRESH_S = 5.0  # the queue sampler answers every 0.25 s while its broker is up
CONSUMING = ("starting", "ready")  # not paused: a stopped consumer takes nothing


class Draining(Protocol):
    """What the drain reads of a supervisor."""

    topology: Topology
    plan: RunPlan | None
    metrics: Collector | None
    table: ProcessTable
    queue_depths: Any  # engines.brokers.QueueDepthMonitor or None
    queue_consumers: dict[tuple[str, str], list[str]]
    drain_quiet_s: float
    drain_timeout_s: float
    _lock: threading.RLock


def wait_drained(sup: Draining) -> None:
    """Return once caught up, after `drain_quiet_s` without progress, or at `drain_timeout_s`."""
    assert sup.metrics is not None and sup.plan is not None
    metrics, plan = sup.metrics, sup.plan
    quiet_since, last, cap = time.monotonic(), -1, time.monotonic() + sup.drain_timeout_s
    mail_busy_at = time.monotonic()  # last time a mailbox had unseen mail
    while time.monotonic() < cap:
        caught_up, total = hops_drained(metrics, plan)  # a chain drains hop by hop
        reading = _queue_waits(sup)
        for client in sup.topology.clients():
            sent = metrics.totals(client.name).get("sent", 0)
            index = plan.clients[client.name]
            got = []
            for route in plan.audience.get(client.name, []):
                counts = metrics.by_client(route.service)
                n = counts[index] if index < len(counts) else 0
                if route.via is not None:  # a mail reader: must read all the mail itself
                    total += n
                    waits = _mail_waits(sup, route)
                    reading = reading or waits
                    if waits or metrics.totals(route.via).get("mailbox_unseen", 0) > 0:
                        mail_busy_at = time.monotonic()
                    if n < sent or time.monotonic() - mail_busy_at < MAIL_SETTLE_S:
                        caught_up = False
                    continue
                got.append(n)
            total += sum(got)
            if got and (min(got) < sent if client.style.one_to_many else sum(got) < sent):
                caught_up = False
        if caught_up:
            return
        if total != last or reading:
            last, quiet_since = total, time.monotonic()
        elif time.monotonic() - quiet_since >= sup.drain_quiet_s:
            return
        time.sleep(POLL_S)


def _mail_waits(sup: Draining, route: Route) -> bool:
    """Unseen mail and a reader alive (or restarting) to read it: the run is not quiet yet."""
    assert sup.metrics is not None and route.via is not None
    if sup.metrics.totals(route.via).get("mailbox_unseen", 0) <= 0:
        return False
    with sup._lock:
        proc = sup.table.nodes[route.service]
        return proc.state in RUNNING or proc.start_pending


def _queue_waits(sup: Draining) -> bool:
    """A queue that held ready messages and no consumer a moment ago, and a consumer service
    alive (or restarting) that will attach and take them: the run is not quiet yet."""
    depths = sup.queue_depths
    if depths is None:
        return False
    now = time.monotonic() - depths.t0
    with sup._lock:
        for key, (t, ready, consumers) in depths.latest().items():
            if ready <= 0 or consumers > 0 or now - t > QUEUE_FRESH_S:
                continue  # an attached consumer that takes nothing (prefetch full, a stream
                # read to its end) is what the quiet time is for
            for service in sup.queue_consumers.get(key, ()):
                proc = sup.table.nodes[service]
                if proc.state in CONSUMING or proc.start_pending:
                    return True
    return False
