"""Start order: each client starts as soon as the services it sends to are ready.

A client's messages must find their services listening (a PUSH to a service
not yet bound would queue, a subscriber not yet connected would miss them),
so a client waits for every service its messages can reach: its targets,
what consumes from the brokers it publishes to, and, downstream, whatever
those services call or forward to. It does not wait for services it never
reaches: on a 100-node run, the first clients send while the last services
are still importing, instead of all clients waiting for the slowest service.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from engines.runtime.control import POLL_S
from engines.runtime.errors import RunError
from engines.runtime.proctable import ProcessTable, log_tail
from engines.runtime.scheduler import Controls, Scheduler
from engines.topology.model import ServiceNode, Step, Topology


class Starting(Controls, Protocol):
    """What the start loop reads and does of a supervisor."""

    topology: Topology
    table: ProcessTable
    ready_timeout_s: float
    started_at: float | None
    steps_before_clients: list[Step]
    _lock: threading.RLock

    def set_origin(self, at_wall: float | None = None) -> None: ...


def needs(topology: Topology) -> dict[str, set[str]]:
    """client -> the services that must be ready before it starts (every service reachable from it)."""
    out: dict[str, set[str]] = {}
    for client in topology.clients():
        seen: set[str] = set()
        stack = [client.name]
        while stack:
            for link in topology.links_from(stack.pop()):
                if link.target not in seen:
                    seen.add(link.target)
                    stack.append(link.target)
        out[client.name] = {n for n in seen if isinstance(topology.node(n), ServiceNode)}
    return out


def startable(pending: list[str], needs_of: dict[str, set[str]], ready: set[str]) -> list[str]:
    """The pending clients whose services are all ready, in the topology's order."""
    return [c for c in pending if needs_of.get(c, set()) <= ready]


def readiness(table: ProcessTable, lock: threading.RLock | threading.Lock,
              names: list[str]) -> tuple[set[str], list[str]]:
    """(services ready, services still starting); RunError if one ended before it was ready."""
    with lock:
        procs = [table.nodes[n] for n in names]
        dead = [p for p in procs if p.state in ("crashed", "exited", "killed")]
        waiting = [p.name for p in procs if p.state == "starting" or p.state == "idle"]
    if dead:
        p = dead[0]
        raise RunError(f"service '{p.name}' exited before it was ready (exit {p.exit_code}); "
                       f"its log {p.log_path} ends with:\n{log_tail(p.log_path)}")
    return set(names) - set(waiting), waiting


def any_up(table: ProcessTable, lock: threading.RLock | threading.Lock, clients: list[str]) -> float | None:
    """When (time.time()) the first of the started clients was ready to send, or now if one is
    already past it (done, ended) without saying so; None while none is: the run's clock starts
    then."""
    with lock:
        up = [table.nodes[n] for n in clients if table.nodes[n].state not in ("idle", "starting")]
        if not up:
            return None
        return min(p.ready_wall if p.ready_wall is not None else time.time() for p in up)


def start_clients(sup: Starting, services: list[str], needs_of: dict[str, set[str]]) -> None:
    """Start each client of a supervisor as soon as the services it reaches are ready; return
    once every service is ready, every client started and one of them ready (the run's clock
    starts then: `sup.set_origin`). The scenario's 0 s steps fire before the first client."""
    clients = [c.name for c in sup.topology.clients()]
    pending, started = list(clients), list[str]()
    deadline = time.monotonic() + sup.ready_timeout_s
    ready: set[str] = set()  # once ready, a service may crash and restart as the run asks
    while True:
        now_ready, waiting = readiness(sup.table, sup._lock, [s for s in services if s not in ready])
        ready |= now_ready
        for name in startable(pending, needs_of, ready):
            if not started:
                sup.steps_before_clients = Scheduler.before_clients(sup.topology.scenario, set(clients), sup)
            sup.start_node(name)
            pending.remove(name)
            started.append(name)
        if sup.started_at is None:
            ready_wall = any_up(sup.table, sup._lock, started)
            if ready_wall is not None or not clients:
                sup.set_origin(ready_wall)
        if not waiting and not pending and sup.started_at is not None:
            return
        if time.monotonic() > deadline:
            p = sup.table.nodes[(waiting or started or pending)[0]]
            raise RunError(f"node '{p.name}' did not report ready within {sup.ready_timeout_s:g} s; "
                           f"its log {p.log_path} ends with:\n{log_tail(p.log_path)}")
        time.sleep(POLL_S)
