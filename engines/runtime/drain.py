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
on a loaded machine, and the messages it has yet to take are not lost. A queue
with ready messages and an attached consumer that is alive is not caught up,
whatever the counts say (they count deliveries, and a redelivered message
twice), and it stretches the quiet time to QUEUE_STALL_S: a consumer starved
of CPU can commit nothing for a second and still be taking its queue, while one
that takes nothing for QUEUE_STALL_S (a full prefetch never acked) is stuck.
`drain_timeout_s` bounds all.
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
QUEUE_STALL_S = 5.0  # an attached consumer with a backlog that commits nothing this long is stuck
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
        reading, backlog = _queue_waits(sup)
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
        if caught_up and not backlog:  # deliveries count redeliveries again: a queue still
            return  # holding messages for its consumer says it has not had them all yet
        quiet_s = max(sup.drain_quiet_s, QUEUE_STALL_S) if backlog else sup.drain_quiet_s
        if total != last or reading:
            last, quiet_since = total, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s:
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


def _queue_waits(sup: Draining) -> tuple[bool, bool]:
    """(waits, backlog) from the queues' latest fresh samples. Waits: a queue holds ready
    messages and no consumer, and a consumer service is alive (or restarting) that will attach
    and take them. Backlog: a queue holds ready messages for an attached consumer service that
    is alive (it may be starved of CPU, or stuck: QUEUE_STALL_S tells them apart)."""
    depths = sup.queue_depths
    if depths is None:
        return False, False
    now, backlog = time.monotonic() - depths.t0, False
    with sup._lock:
        for key, (t, ready, consumers) in depths.latest().items():
            if ready <= 0 or now - t > QUEUE_FRESH_S:
                continue
            for service in sup.queue_consumers.get(key, ()):
                proc = sup.table.nodes[service]
                if consumers > 0:
                    backlog = backlog or proc.state in CONSUMING
                elif proc.state in CONSUMING or proc.start_pending:
                    return True, backlog
    return False, backlog
