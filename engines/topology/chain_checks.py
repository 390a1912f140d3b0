"""Validation of service chains: outgoing links' styles and settings, cycles (issue 12).

Every problem names the node or link and says what would be valid. Called by
`engines.topology.validation.validate`.
"""

from __future__ import annotations

from typing import Any

from engines.topology import chains
from engines.topology.model import BrokerNode, Link, ServiceNode, Topology
from engines.topology.problems import Problem, Severity
from engines.topology.vocabulary import Transport


def _offered(transport: Transport) -> str:
    calls = [s.value for s in chains.CALL_STYLES[transport]]
    events = [s.value for s in chains.EVENT_STYLES[transport]]
    parts = ([f"calls: {', '.join(calls)}"] if calls else []) + (
        [f"events: {', '.join(events)}"] if events else [])
    return "; ".join(parts)


def _client_link(j: int, link: Link, topology: Topology) -> list[Problem]:
    """A client's link carries the client's settings: service-link fields there are mistakes."""
    set_here = [f for f in chains.SERVICE_LINK_FIELDS if f in link.model_fields_set]
    if not set_here:
        return []
    return [Problem(f"'{set_here[0]}' is a setting of a service's outgoing link; "
                    f"link '{link.key}' starts at '{link.source}'",
                    link=link.key, path=("links", j, set_here[0]),
                    hint="a client's style, transport and timeouts are set on the client")]


def _call_inbound(topology: Topology, link: Link, bad: Any) -> None:
    """What a call inside the handling needs from the way its service is fed (engines.nodes.handler)."""
    service = topology.node(link.source)
    feeding = chains.feeding_transports(topology, link.source)
    if Transport.IMAP in feeding:
        bad("style", f"service '{link.source}' reads a mailbox over imap and cannot hold a message "
            f"while the call '{link.key}' waits (a read message is read)",
            "make this link an event (notification), or feed the service over http, zmq or amqp")
        return
    if Transport.AMQP not in feeding or not isinstance(service, ServiceNode):
        return
    if service.ack.value == "auto":
        bad("style", f"service '{link.source}' takes its messages with ack: auto, so a failed call "
            f"'{link.key}' loses the message it was handling", "set ack: manual on "
            f"'{link.source}' (a failed call then requeues the message)", Severity.WARNING)
    budget_s = link.timeout_ms * (link.retries + 1) / 1000.0
    if not service.handler_thread and service.heartbeat_s and (
            link.timeout_ms == 0 or budget_s >= 2 * service.heartbeat_s):
        bad("timeout_ms", f"call '{link.key}' may wait {budget_s:g} s on the amqp I/O loop of "
            f"'{link.source}', longer than two heartbeats ({2 * service.heartbeat_s} s): the "
            "broker would drop its connection", f"set handler_thread: true on '{link.source}', "
            "or a shorter timeout_ms", Severity.WARNING)


def service_link_problems(topology: Topology) -> list[Problem]:
    problems: list[Problem] = []
    for j, link in enumerate(topology.links):
        if not (topology.has_node(link.source) and topology.has_node(link.target)):
            continue
        if not chains.is_service_link(topology, link):
            problems.extend(_client_link(j, link, topology) if chains.is_client(topology, link.source) else [])
            continue
        target = topology.node(link.target)
        style = topology.sender_style(link)
        transport = topology.link_transport(link)
        if style is None or transport is None:
            continue

        def bad(fld: str, message: str, hint: str | None = None,
                severity: Severity = Severity.ERROR, j: int = j, key: str = link.key) -> None:
            problems.append(Problem(message, link=key, hint=hint, severity=severity,
                                    path=("links", j, fld)))

        if isinstance(target, BrokerNode) and link.transport not in (None, Transport.AMQP):
            bad("transport", f"link '{link.key}' goes to broker '{target.name}', which speaks amqp, "
                f"not {link.transport.value if link.transport else ''}", "remove 'transport:' or set amqp")
            continue
        if isinstance(target, ServiceNode) and transport is Transport.AMQP:
            bad("transport", f"link '{link.key}': amqp needs a broker between '{link.source}' "
                f"and '{target.name}'", "link the service to a broker, or use http or zmq")
            continue
        if style not in chains.CALL_STYLES[transport] + chains.EVENT_STYLES[transport]:
            bad("style", f"service '{link.source}' cannot send {style.value} over "
                f"{transport.value} on link '{link.key}'", f"{transport.value} offers {_offered(transport)}")
            continue
        if style.expects_reply:  # a call inside the handling
            _call_inbound(topology, link, bad)
            if link.timeout_ms == 0:
                bad("timeout_ms", f"call '{link.key}' has no timeout: a slow '{target.name}' makes "
                    f"'{link.source}' wait forever and its callers pile up",
                    "set timeout_ms (the lab's default is 1000)", Severity.WARNING)
        else:
            set_here = [f for f in chains.CALL_FIELDS if f in link.model_fields_set]
            if set_here:
                bad(set_here[0], f"'{set_here[0]}' applies to calls; link '{link.key}' sends "
                    f"{style.value} events", "use a request style to make it a call",
                    Severity.WARNING)
    cycle = chains.find_cycle(chains.service_graph(topology))
    if cycle is not None:
        first = topology.links_from(cycle[0])
        j = topology.links.index(first[0]) if first else 0
        problems.append(Problem(f"the services form a cycle: {' -> '.join(cycle)}; a message "
                                "would travel forever", node=cycle[0], path=("links", j),
                                hint="remove one of these links so the chain ends"))
    return problems
