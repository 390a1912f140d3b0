"""Who leads each queue of a cluster, sampled over the management API (never rabbitmqctl).

DESIGN trap: `rabbitmqctl` against a node later SIGKILLed left its quorum
queues leaderless after restart; the management API does not touch the node
that way. Each sample asks the first member that is up, with a short timeout
(during a member's pause the API of a healthy member may hang), and a member
that does not answer is simply skipped until the next sample.

A leader change becomes an event with the time the queue had no leader: from
the moment its old leader member went down (kill, stop, pause) to the first
sample that shows a new leader; without a known outage, from the last sample
that showed the old one.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from engines.brokers.handle import BrokerState
from engines.brokers.nodeconf import NodeLayout

EventSink = Callable[..., None]  # events.add(kind, node, **fields)


class ClusterBroker(Protocol):
    """What the monitor reads of engines.brokers.cluster.ClusterBroker (which starts it)."""

    name: str
    layouts: list[NodeLayout]
    members: list[Any]
    down_since: dict[str, float]


@dataclass(frozen=True)
class QueueView:
    """One queue as the cluster reports it; member names are the lab's (`rabbit/2`)."""

    name: str
    type: str
    leader: str | None
    members: tuple[str, ...]
    online: tuple[str, ...]
    ready: int


def fetch_queues(cluster: ClusterBroker, timeout: float = 2.0) -> list[QueueView] | None:
    """The queues of the default vhost, from the first member whose API answers; None if none."""
    by_node = {lay.nodename: lay.name for lay in cluster.layouts}
    for member, layout in zip(cluster.members, cluster.layouts, strict=True):
        if member.state is not BrokerState.RUNNING or layout.mgmt_port is None:
            continue
        url = (f"http://127.0.0.1:{layout.mgmt_port}/api/queues/%2F"
               "?columns=name,type,leader,node,members,online,messages_ready")
        req = urllib.request.Request(url)
        token = base64.b64encode(f"{layout.user}:{layout.password}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback http
                rows = json.loads(resp.read())
        except (OSError, urllib.error.URLError, ValueError):
            continue
        return [_view(row, by_node) for row in rows if isinstance(row, dict)]
    return None


def _view(row: dict[str, Any], by_node: dict[str, str]) -> QueueView:
    leader = row.get("leader") or row.get("node")
    return QueueView(
        name=str(row.get("name", "")),
        type=str(row.get("type", "classic")),
        leader=by_node.get(str(leader), str(leader)) if leader else None,
        members=tuple(by_node.get(str(n), str(n)) for n in row.get("members") or [leader] if n),
        online=tuple(by_node.get(str(n), str(n)) for n in row.get("online") or []),
        ready=int(row.get("messages_ready") or 0),
    )


class LeaderMonitor(threading.Thread):
    """Samples a cluster's queues every `period_s`; turns leader changes into events."""

    def __init__(self, cluster: ClusterBroker, sink: EventSink, period_s: float = 0.25,
                 on_tick: Callable[[], None] | None = None) -> None:
        super().__init__(name=f"leaders:{cluster.name}", daemon=True)
        self.cluster = cluster
        self.sink = sink
        self.on_tick = on_tick  # called every period (the run checks its members' processes)
        self.period_s = period_s
        self._stop_event = threading.Event()
        self._lock = threading.Lock()
        self._views: dict[str, QueueView] = {}
        self._leaders: dict[str, str] = {}  # queue -> its last known live leader
        self._seen_at: dict[str, float] = {}  # queue -> last time its leader was seen
        self.changes: list[dict[str, Any]] = []
        self.samples = 0
        self.misses = 0  # samples no member answered (all down, paused, or too slow)
        self.last_error = ""

    def queues(self) -> dict[str, QueueView]:
        with self._lock:
            return dict(self._views)

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                views = fetch_queues(self.cluster)
                if self.on_tick is not None:
                    self.on_tick()
                if views is not None:
                    self._update(views, time.monotonic())
                    self.samples += 1
                else:
                    self.misses += 1
            except Exception as exc:  # noqa: BLE001 - a monitor must outlive any cluster state
                self.last_error = repr(exc)
            self._stop_event.wait(self.period_s)

    def _update(self, views: list[QueueView], now: float) -> None:
        down = dict(self.cluster.down_since)
        for view in views:
            with self._lock:
                self._views[view.name] = view
            if view.leader is None or view.leader in down:
                continue  # no leader, or the API still names a dead one until the election ends
            old = self._leaders.get(view.name)
            self._leaders[view.name] = view.leader
            if old is not None and old != view.leader:
                since = down.get(old, self._seen_at.get(view.name, now))
                change = {"queue": view.name, "from": old, "to": view.leader,
                          "leaderless_s": round(max(0.0, now - since), 3)}
                self.changes.append(change)
                self.sink("leader-change", self.cluster.name, **change)
            self._seen_at[view.name] = now

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)
