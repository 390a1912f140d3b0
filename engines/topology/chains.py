"""Service chains: a service's outgoing links, which of them are calls and which events, and cycles.

A service may send downstream on its outgoing links (issue 12). A link whose
style expects a reply is a *call* made inside the handling (the service answers
its caller only after the call answered, failed or timed out); any other style
is an *event* sent after the work, directly after the commit (dual write) or
through a transactional outbox. This module says, from the model alone, what
each outgoing link is and which services feed which, so validation, the run
plan and the GUI's drag-to-link share one reading.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from engines.topology.channels import plan as channel_plan
from engines.topology.model import BrokerNode, ClientNode, Link, ServiceNode, Topology
from engines.topology.vocabulary import Style, Transport

# What a service can send on, per transport: the drivers a service's sender reuses.
CALL_STYLES: dict[Transport, tuple[Style, ...]] = {
    Transport.HTTP: (Style.REQUEST_RESPONSE, Style.ASYNC_REQUEST_RESPONSE),
    Transport.ZMQ: (Style.REQUEST_RESPONSE, Style.ASYNC_REQUEST_RESPONSE),  # REQ (Lazy Pirate), DEALER
    Transport.AMQP: (Style.REQUEST_RESPONSE, Style.ASYNC_REQUEST_RESPONSE),  # RPC: reply_to + correlation_id
}
EVENT_STYLES: dict[Transport, tuple[Style, ...]] = {
    Transport.HTTP: (Style.NOTIFICATION,),
    Transport.ZMQ: (Style.NOTIFICATION,),
    Transport.AMQP: (Style.NOTIFICATION, Style.PUBLISH_SUBSCRIBE),
}
CALL_FIELDS = ("timeout_ms", "retries", "in_flight", "max_concurrent", "breaker_failures",
               "breaker_open_ms")
SERVICE_LINK_FIELDS = ("style", "transport", "delivery", *CALL_FIELDS)


@dataclass(frozen=True)
class Hop:
    """One outgoing link of a service and the services its messages reach."""

    link: str
    source: str
    targets: tuple[str, ...]  # one for a direct link; the channel's consumers through a broker
    consumer_links: tuple[str, ...]  # the link into each target (the broker's link, or this one)
    style: Style
    transport: Transport

    @property
    def call(self) -> bool:
        return self.style.expects_reply


def is_service_link(topology: Topology, link: Link) -> bool:
    """A link on which a service sends on (not a mail service's link to a mailbox reader, nor a
    Pirate queue's link to a worker: the worker asks the queue for work)."""
    source = topology.node(link.source) if topology.has_node(link.source) else None
    return (isinstance(source, ServiceNode) and not topology.receives_mail(link.source)
            and source.pirate is None)


def hops(topology: Topology) -> list[Hop]:
    """Every outgoing link of every service, with the services it reaches."""
    by_link = channel_plan(topology).by_link
    found: list[Hop] = []
    for link in topology.links:
        if not is_service_link(topology, link) or not topology.has_node(link.target):
            continue
        style, transport = topology.sender_style(link), topology.link_transport(link)
        assert style is not None and transport is not None
        target = topology.node(link.target)
        if isinstance(target, BrokerNode):
            channel = by_link.get(link.key)
            outs = [out for out in topology.links_from(target.name)
                    if channel is not None and by_link.get(out.key) == channel]
            found.append(Hop(link.key, link.source, tuple(o.target for o in outs),
                             tuple(o.key for o in outs), style, transport))
        elif isinstance(target, ServiceNode):
            found.append(Hop(link.key, link.source, (target.name,), (link.key,), style, transport))
    return found


def service_graph(topology: Topology) -> nx.DiGraph[str]:
    """Services as nodes, an edge where one's messages reach another (through brokers too)."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(s.name for s in topology.services())
    for hop in hops(topology):
        graph.add_edges_from((hop.source, t) for t in hop.targets)
    return graph


def find_cycle(graph: nx.DiGraph[str]) -> list[str] | None:
    """A cycle as node names, first repeated at the end ('a', 'b', 'a'), or None."""
    try:
        edges = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return None
    return [str(u) for u, _ in edges] + [str(edges[0][0])]


def cycle_with(topology: Topology, source: str, target: str) -> list[str] | None:
    """The cycle that a new link source -> target would close between services, if any."""
    if not (topology.has_node(source) and topology.has_node(target)):
        return None
    graph = service_graph(topology)
    a, b = topology.node(source), topology.node(target)
    if not isinstance(a, ServiceNode):
        return None
    reached = [b.name] if isinstance(b, ServiceNode) else [
        o.target for o in topology.links_from(b.name)] if isinstance(b, BrokerNode) else []
    for t in reached:
        if t in graph and (t == source or nx.has_path(graph, t, source)):
            path = nx.shortest_path(graph, t, source) if t != source else [t]
            return [source, *path] if t != source else [source, source]
    return None


def origins(topology: Topology) -> dict[str, list[str]]:
    """Per service, the clients whose messages reach it (in file order)."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(n.name for n in topology.nodes)
    graph.add_edges_from((lk.source, lk.target) for lk in topology.links
                         if topology.has_node(lk.source) and topology.has_node(lk.target))
    out: dict[str, list[str]] = {s.name: [] for s in topology.services()}
    for client in topology.clients():
        if client.name not in graph:
            continue
        for name in nx.descendants(graph, client.name):
            if name in out:
                out[name].append(client.name)
    return out


def order(topology: Topology) -> list[str]:
    """Services upstream first (topological order; file order where unrelated)."""
    graph = service_graph(topology)
    try:
        return list(nx.lexicographical_topological_sort(
            graph, key=[s.name for s in topology.services()].index))
    except nx.NetworkXUnfeasible:
        return [s.name for s in topology.services()]


def feeding_transports(topology: Topology, service: str) -> set[Transport]:
    """The transports the streams into `service` arrive over."""
    return {t for lk in topology.links_to(service) if (t := topology.link_transport(lk)) is not None}


def is_client(topology: Topology, name: str) -> bool:
    return topology.has_node(name) and isinstance(topology.node(name), ClientNode)
