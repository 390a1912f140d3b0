"""Quick fixes for a refused link: the obvious edit that makes it valid, as one undo step.

`engines.topology.validation.link_refusal` says why a link cannot be drawn; this
module says what would make it drawable, and only offers a fix after checking
it on a copy of the topology (the link is then allowed, and no link the node
already has is refused). Refusals without an obvious fix (a node to itself, a
client to a client, a broker to a broker, a cycle, a link already there) get
none: the callout shows the reason alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engines.topology.model import BrokerNode, ClientNode, Link, ServiceNode, Topology
from engines.topology.validation import link_refusal
from engines.topology.vocabulary import NodeKind, Style, Transport, styles_for, supports
from labgui.document import commands
from labgui.document.document import TopologyDocument


@dataclass(frozen=True)
class Fix:
    """A button on the refusal callout: its label and the edit it makes (one undo step)."""

    label: str
    apply: Callable[[], None]


def _allowed(topology: Topology, name: str, link: tuple[str, str]) -> bool:
    """Whether `link` and every link `name` already has pass the rules in `topology`."""
    pairs = [(lk.source, lk.target) for lk in topology.links if name in (lk.source, lk.target)]
    return all(link_refusal(topology, s, t) is None for s, t in [*pairs, link])


def _switch(topology: Topology, client: str, transport: Transport,
            link: tuple[str, str]) -> Style | None | bool:
    """False if switching `client` to `transport` does not make `link` valid; else the style
    it must take as well (None: its own style still works)."""
    node = topology.node(client)
    assert isinstance(node, ClientNode)
    style = None if supports(transport, node.style) else styles_for(transport)[0]
    trial = topology.model_copy(deep=True)
    changed = trial.node(client)
    assert isinstance(changed, ClientNode)
    changed.transport = transport
    if style is not None:
        changed.style = style
    return style if _allowed(trial, client, link) else False


class _Edits:
    """Builds the fixes' edits on one document."""

    def __init__(self, doc: TopologyDocument) -> None:
        self.doc = doc

    def macro(self, text: str, *steps: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            stack = self.doc.undo_stack
            stack.beginMacro(text)
            try:
                for step in steps:
                    step()
            finally:
                stack.endMacro()
        return run

    def link(self, source: str, target: str) -> Callable[[], None]:
        return lambda: commands.push(self.doc, commands.ConnectCommand(self.doc, Link(source=source, target=target)))

    def change(self, name: str, field: str, value: object) -> Callable[[], None]:
        return lambda: commands.change_node(self.doc, name, field, value)

    def switch_fix(self, client: str, transport: Transport, source: str, target: str) -> Fix | None:
        style = _switch(self.doc.topology, client, transport, (source, target))
        if style is False:
            return None
        steps = [self.change(client, "transport", transport)]
        label = f"Switch '{client}' to {transport.value}"
        if isinstance(style, Style):
            steps.insert(0, self.change(client, "style", style))
            label += f" and its style to {style.value}"
        return Fix(f"{label} and link {source} → {target}", self.macro(f"Link {source} → {target} ({label.lower()})",
                                                   *steps, self.link(source, target)))

    def broker_between(self, client: str, service: str) -> Fix:
        topo = self.doc.topology
        name = topo.unique_name("broker")
        a, b = topo.node(client).position, topo.node(service).position
        broker = BrokerNode(name=name, position=((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + 90))

        def add() -> None:
            commands.push(self.doc, commands.AddNodeCommand(self.doc, broker))
        return Fix(f"Add a broker between '{client}' and '{service}'",
                   self.macro(f"Link {client} → {service} through broker '{name}'",
                              add, self.link(client, name), self.link(name, service)))


def fixes(doc: TopologyDocument, source: str, target: str) -> list[Fix]:
    """The quick fixes for a refused link `source` → `target` (empty when none is obvious)."""
    topo = doc.topology
    if source == target or not (topo.has_node(source) and topo.has_node(target)) \
            or topo.has_link(f"{source}->{target}"):
        return []
    a, b = topo.node(source), topo.node(target)
    edits = _Edits(doc)
    found: list[Fix | None] = []
    if isinstance(a, ClientNode) and isinstance(b, BrokerNode):
        found.append(edits.switch_fix(source, Transport.AMQP, source, target))
    elif isinstance(a, ClientNode) and isinstance(b, ServiceNode):
        found += [edits.switch_fix(source, t, source, target) for t in (Transport.ZMQ, Transport.HTTP)]
        if a.transport is Transport.AMQP:
            brokers = [lk.target for lk in topo.links_from(source) if isinstance(topo.node(lk.target), BrokerNode)]
            for broker in brokers:  # it already has a broker: the service consumes from it
                if not topo.has_link(f"{broker}->{target}") and link_refusal(topo, broker, target) is None:
                    found.append(Fix(f"Link broker '{broker}' → '{target}' ('{source}' reaches it through "
                                     "the broker)", edits.macro(f"Link {broker} → {target}",
                                                                edits.link(broker, target))))
            if not brokers:
                found.append(edits.broker_between(source, target))
    elif b.kind is NodeKind.CLIENT and a.kind is not NodeKind.CLIENT:
        # drawn backwards: a client sends, to a service or a broker
        if topo.has_link(f"{target}->{source}"):
            return []
        if link_refusal(topo, target, source) is None:
            found.append(Fix(f"Link '{target}' → '{source}' instead",
                             edits.macro(f"Link {target} → {source}", edits.link(target, source))))
        else:
            ways = (Transport.AMQP,) if isinstance(a, BrokerNode) else (Transport.ZMQ, Transport.HTTP)
            found += [edits.switch_fix(target, t, target, source) for t in ways]
    return [fix for fix in found if fix is not None]


def transport_fix(topo: Topology, source: str, target: str) -> Transport | None:
    """The fix a first link applies by itself: a client with no link yet that speaks the wrong
    transport takes the one that makes the link valid (amqp to reach a broker, zmq or http to
    reach a service), if its style allows it."""
    if not (topo.has_node(source) and topo.has_node(target)) or topo.links_from(source):
        return None
    client = topo.node(source)
    if not isinstance(client, ClientNode):
        return None
    for transport in (Transport.AMQP, Transport.ZMQ, Transport.HTTP):
        if transport is client.transport or not supports(transport, client.style):
            continue
        trial = topo.model_copy(deep=True)
        trial.node(source).transport = transport  # type: ignore[union-attr]
        if link_refusal(trial, source, target) is None:
            return transport
    return None
