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

from engines.runtime.errors import RunError
from engines.runtime.proctable import ProcessTable, log_tail
from engines.topology.model import ServiceNode, Topology


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
