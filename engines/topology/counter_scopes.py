"""Which counters each scope of a run's summary carries, so validation can refuse the others.

Mirrors what engines.ledger.reconcile puts in a summary: a client has its own
counters and the reconciled ones; a service has what was delivered and
committed to it (and, fed by a one-to-many client, what was sent to it); a
link carries its client's account, or what crossed it into a service; a
broker has no counters of its own (its links do). Without this, an
expectation such as `billing.errors == 0` passed validation and then failed
every run with "no value".
"""

from __future__ import annotations

import difflib

from engines.ledger.counters import (
    CLIENT_LEDGER,
    CLIENT_RECORDED,
    CLIENT_SIDE,
    COUNTERS,
    SERVICE_RECORDED,
)
from engines.topology import chains
from engines.topology.model import Topology
from engines.topology.vocabulary import NodeKind

SERVICE_SIDE = ("delivered", "processed", "duplicates_delivered", "duplicates_processed",
                "duplicates_suppressed", "redelivered")
RECONCILED = (*SERVICE_SIDE, "lost", "in_doubt")
OVER_TIME = ("p50_latency_ms", "p90_latency_ms", "p99_latency_ms", "max_latency_ms", "throughput", "duration_s")
CLIENT = (*CLIENT_SIDE, "resent_in_doubt", *CLIENT_LEDGER, *CLIENT_RECORDED, *RECONCILED, *OVER_TIME)
SERVICE = (*RECONCILED, "hostile", "replies", "input_errors", *SERVICE_RECORDED, *OVER_TIME)
FROM_CLIENT = (*CLIENT_SIDE, "resent_in_doubt", *CLIENT_LEDGER, *RECONCILED, "hostile")
INTO_SERVICE = (*RECONCILED, "hostile", "replies")


def _one_to_many_extra(topology: Topology, service: str) -> tuple[str, ...]:
    """Fed by a one-to-many client, a service's account also has what was sent to it (and
    what it answered, for publish/async responses)."""
    styles = {c.style.value for c in topology.clients() if c.name in _feeders(topology, service)
              and c.style.one_to_many}
    return (("sent",) if styles else ()) + (("acknowledged",) if "publish-async-responses" in styles else ())


def _feeders(topology: Topology, name: str) -> list[str]:
    """Clients whose messages reach `name` (directly or through brokers)."""
    into: dict[str, list[str]] = {}
    for link in topology.links:
        into.setdefault(link.target, []).append(link.source)
    seen, todo, clients = {name}, [name], []
    while todo:
        for source in into.get(todo.pop(), []):
            if source in seen:
                continue
            seen.add(source)
            if topology.has_node(source) and topology.node(source).kind is NodeKind.CLIENT:
                clients.append(source)
            todo.append(source)
    return sorted(clients)


def _mail_extra(topology: Topology, service: str) -> tuple[str, ...]:
    """A mail service counts what it `stored`; a reader of a mailbox what it `read`."""
    reads = any(lk.target == service and topology.has_node(lk.source) and topology.receives_mail(lk.source)
                for lk in topology.links)
    return (("stored",) if topology.receives_mail(service) else ()) + (("read",) if reads else ())


PIRATE_QUEUE = ("pirate_registrations", "pirate_purged", "pirate_stranded", "pirate_forwarded", "pirate_replies")
E2E = ("e2e_reached", "e2e_lost", "e2e_duplicates")
HOP = ("hop_reached", "hop_lost", "orphans")
CALLS = ("short_circuited", "rejected_bulkhead", "calls_in_flight_peak", "breaker_open",
         "breaker_half_open", "breaker_closed")


def _chain_extra(topology: Topology, scope: str) -> tuple[str, ...]:
    """Service chains (engines.ledger.chain): a client whose messages go on past a service has its
    end-to-end counts; a service that makes calls, its calls' counters."""
    hops = chains.hops(topology)
    if topology.node(scope).kind is NodeKind.CLIENT:
        return E2E if hops else ()
    return CALLS if any(h.call and h.source == scope for h in hops) else ()


def counters_of(topology: Topology, scope: str) -> tuple[str, tuple[str, ...]] | None:
    """(what the scope is, the counters it has), or None for a scope that is no node or link."""
    if topology.has_node(scope):
        node = topology.node(scope)
        if node.kind is NodeKind.CLIENT:
            return "client", CLIENT + _chain_extra(topology, scope)
        if node.kind is NodeKind.BROKER:
            return "broker", ()
        if getattr(node, "pirate", None) is not None:  # commits nothing: its workers' links count
            return "Pirate queue", ("input_errors", *PIRATE_QUEUE)
        return "service", (SERVICE + _one_to_many_extra(topology, scope) + _mail_extra(topology, scope)
                           + _chain_extra(topology, scope))
    link = next((lk for lk in topology.links if lk.key == scope), None)
    if link is None:
        return None
    if chains.is_service_link(topology, link):  # a hop: its sender's account, as a client's link
        style = topology.sender_style(link)
        return "link from a service", FROM_CLIENT + HOP + (CALLS if style and style.expects_reply else ())
    if topology.has_node(link.source) and topology.node(link.source).kind is NodeKind.CLIENT:
        return "link from a client", FROM_CLIENT
    read = ("read",) if topology.has_node(link.source) and topology.receives_mail(link.source) else ()
    return "link into a service", INTO_SERVICE + _one_to_many_extra(topology, link.target) + read


def refusal(topology: Topology, scope: str, counter: str) -> tuple[str, str] | None:
    """(message, hint) when `scope` has no `counter`, else None."""
    found = counters_of(topology, scope)
    if found is None or counter not in COUNTERS:
        return None
    kind, allowed = found
    if counter in allowed:
        return None
    if kind == "broker":
        links = [lk.key for lk in topology.links if scope in (lk.source, lk.target)]
        example = f"'{links[0]}.{counter}'" if links else "one of its links"
        return (f"broker '{scope}' has no counters of its own", f"its links have them, e.g. {example}")
    message = f"{kind} '{scope}' has no counter '{counter}'"
    feeders = _feeders(topology, scope) if kind == "service" else []
    if counter in CLIENT_SIDE and feeders:
        return message, (f"'{counter}' is counted by clients: did you mean '{feeders[0]}.{counter}'? "
                         f"a {kind} has: {', '.join(allowed)}")
    close = difflib.get_close_matches(counter, allowed, n=1)
    hint = f"did you mean '{scope}.{close[0]}'? " if close else ""
    return message, f"{hint}a {kind} has: {', '.join(allowed)}"
