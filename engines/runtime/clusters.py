"""The members of a run's clustered brokers: controllable nodes, leader changes, a report.

A clustered broker (engines.brokers.ClusterBroker) is one topology node; its
members (`rabbit/1` ... `rabbit/N`) become nodes of the run's process table,
so a GUI's context menu and a scenario kill, stop, pause, resume and restart
each one like any node (Control looks them up in `members`). Each cluster's
leader monitor turns queue leader changes into `leader-change` events; the
summary gets per member what happened and the failover figures.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from engines.runtime.control import Control
from engines.runtime.events import EventLog
from engines.runtime.proctable import NodeProcess

DRAIN_QUIET_S = 10.0
MEMBER_EVENTS = ("ready", "starting", "killed", "exited", "paused", "crashed", "error")


class Clusters:
    def __init__(self, control: Control, events: EventLog, run_dir: Path) -> None:
        self.control = control
        self.events = events
        self.run_dir = run_dir
        self.monitors: dict[str, Any] = {}  # broker name -> LeaderMonitor
        self.handles: dict[str, Any] = {}  # broker name -> ClusterBroker

    def add(self, name: str, handle: Any) -> None:
        """Register a started cluster's members and start watching its queue leaders."""
        if not hasattr(handle, "member_handle"):
            return
        self.handles[name] = handle
        table = self.control.table
        for index, member in enumerate(handle.member_names(), 1):
            mh = handle.member_handle(index)
            self.control.members[member] = mh
            proc = NodeProcess(member, "broker", self.run_dir / "nodes" / member.replace("/", "."))
            proc.state = "ready"
            proc.lives = 1
            table.add(proc)
            table.extra_pids[member] = list(mh.pids())
            self.events.add("ready", member, role="member", cluster=name)
        self.monitors[name] = handle.leader_monitor(
            self.events.add, on_tick=lambda: self.check_members(name))

    def check_members(self, name: str) -> None:
        """A member whose beam.smp died without the lab asking (OOM, a crash) is `crashed`."""
        handle = self.handles[name]
        for member in handle.member_names():
            proc = self.control.table.nodes.get(member)
            mh = self.control.members.get(member)
            if proc is None or mh is None or member in handle.down_since:
                continue  # the lab took it down itself (kill, stop, pause, restart)
            if proc.state in ("ready", "paused") and mh.state.value == "killed":
                handle.down_since.setdefault(member, time.monotonic())
                with self.control.lock:
                    self.control._set_state(proc, "crashed", role="member",  # noqa: SLF001
                                            reason="beam.smp exited on its own")

    def drain_quiet_s(self, base: float) -> float:
        """How long nothing may move before the end of a run stops waiting for the services:
        a consumer failing over from a paused member needs a few seconds to notice it."""
        return max(base, DRAIN_QUIET_S) if self.handles else base

    def member_names(self) -> list[str]:
        return [m for h in self.handles.values() for m in h.member_names()]

    def close(self, queue_depths: Any = None) -> None:
        """Stop sampling: the leader monitors, and the run's queue depth monitor if given."""
        if queue_depths is not None:
            queue_depths.close()
        for monitor in self.monitors.values():
            monitor.stop()

    def leader_changes(self) -> list[dict[str, Any]]:
        return [dict(c, broker=name) for name, m in self.monitors.items() for c in m.changes]

    def queues(self, name: str) -> dict[str, Any]:
        """The latest view of each queue of cluster `name` (leader, members, online)."""
        monitor = self.monitors.get(name)
        return monitor.queues() if monitor is not None else {}

    def report(self) -> dict[str, Any]:
        """Per cluster: boot time, per member its state and what happened, leader changes."""
        states = self.control.states()
        happened: dict[str, list[dict[str, Any]]] = {}
        failovers: dict[str, list[float]] = {}
        for event in self.events.since(0):
            node = event.get("node")
            if event.get("event") == "failover" and node:
                failovers.setdefault(str(node), []).append(float(event.get("after_s") or 0.0))
            if node in states and event.get("event") in (*MEMBER_EVENTS, "scenario"):
                happened.setdefault(node, []).append(
                    {k: event[k] for k in ("t", "event", "action", "error") if k in event})
        out: dict[str, Any] = {}
        for name, handle in self.handles.items():
            changes = [c for c in self.leader_changes() if c["broker"] == name]
            monitor = self.monitors.get(name)
            out[name] = {
                "leader_samples": getattr(monitor, "samples", 0),
                "leader_samples_missed": getattr(monitor, "misses", 0),
                "leader_sampling_error": getattr(monitor, "last_error", ""),
                "boot_s": round(handle.boot_s, 2) if handle.boot_s else None,
                "members": {m: {"state": states.get(m), "events": happened.get(m, [])}
                            for m in handle.member_names()},
                "leader_changes": changes,
                "max_leaderless_s": max((c["leaderless_s"] for c in changes), default=None),
                "failover_s": failovers,  # per client or service: loss to ready on the next member
            }
        return out
