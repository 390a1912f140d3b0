"""Checks for the idempotent consumer's settings: shared stores and split transactions.

Instances of one service (`store: NAME` on several service nodes) share one
database, which makes sense only when they compete for messages: in the
publish styles every subscriber gets every message, so a shared
PROCESSED_MESSAGES would refuse the second subscriber's copy as a duplicate.
A split transaction needs PROCESSED_MESSAGES, a crash `between-writes`
needs two writes to fall between, and a crash `after-reply` needs an RPC
server that replies and then acks (amqp).
"""

from __future__ import annotations

from collections.abc import Callable

from engines.topology.model import (
    AckMode,
    BindSide,
    BrokerNode,
    ClientNode,
    CrashPoint,
    ServiceNode,
    Topology,
    TransactionMode,
)
from engines.topology.vocabulary import Style, Transport

Report = Callable[[int, str, str, str], None]  # node index, field, message, hint


def feeding_clients(topology: Topology, service: ServiceNode) -> list[ClientNode]:
    """Clients whose messages reach `service`, directly or through a broker."""
    out: list[ClientNode] = []
    for link in topology.links_to(service.name):
        if not topology.has_node(link.source):
            continue
        source = topology.node(link.source)
        if isinstance(source, ClientNode):
            out.append(source)
        elif isinstance(source, BrokerNode):
            out += [c for lk in topology.links_to(source.name) if topology.has_node(lk.source)
                    for c in [topology.node(lk.source)] if isinstance(c, ClientNode)]
    return out


def check_binds(topology: Topology, report: Report) -> None:
    """`zmq_binds` turns round only PUSH/PULL and PUB/SUB (the zguide binds either end there)."""
    for i, node in enumerate(topology.nodes):
        if isinstance(node, ClientNode) and node.zmq_binds is not BindSide.USUAL and not (
                node.transport is Transport.ZMQ
                and node.style in (Style.NOTIFICATION, Style.PUBLISH_SUBSCRIBE)):
            report(i, "zmq_binds",
                   f"zmq_binds '{node.zmq_binds.value}' applies to zmq notification (PUSH/PULL) and "
                   f"publish-subscribe (PUB/SUB); this client is {node.transport.value} "
                   f"{node.style.value}", "set zmq_binds: usual")


def check(topology: Topology, report: Report) -> None:
    """Report every problem with shared stores and transaction modes."""
    check_binds(topology, report)
    sharing: dict[str, list[str]] = {}
    for node in topology.services():
        if node.store is not None:
            sharing.setdefault(node.store, []).append(node.name)
    for i, any_node in enumerate(topology.nodes):
        if not isinstance(any_node, ServiceNode):
            continue
        node = any_node
        if node.store is not None:
            publishers = sorted({c.name for c in feeding_clients(topology, node) if c.style.one_to_many})
            if publishers and len(sharing[node.store]) > 1:
                report(i, "store",
                       f"shares store '{node.store}' with {', '.join(n for n in sharing[node.store] if n != node.name)}, "
                       f"but {', '.join(publishers)} publish to every subscriber: the shared "
                       "PROCESSED_MESSAGES would refuse the second copy as a duplicate",
                       "instances share a store when they compete for messages (one queue, "
                       "PUSH/PULL, request-response); give each subscriber its own store")
        if node.transaction is not TransactionMode.ONE and not node.idempotent:
            report(i, "transaction",
                   f"transaction '{node.transaction.value}' orders two writes, but a service that is "
                   "not idempotent writes no PROCESSED_MESSAGES row",
                   "set idempotent: true, or transaction: one")
        if node.crash is not None and node.crash.point is CrashPoint.BETWEEN_WRITES \
                and node.transaction is TransactionMode.ONE:
            report(i, "crash",
                   "crash point 'between-writes' needs two writes: with transaction 'one' the "
                   "marker and the effect commit together",
                   "set transaction: marker-first or effect-first")
        if node.crash is not None and node.crash.point is CrashPoint.AFTER_REPLY:
            rpc = [c for c in feeding_clients(topology, node)
                   if c.transport is Transport.AMQP and c.style.expects_reply]
            if not rpc or not node.reply or node.ack is not AckMode.MANUAL:
                report(i, "crash",
                       "crash point 'after-reply' dies between an RPC server's reply and its ack: "
                       "it needs amqp requests that expect a reply, reply: true and ack: manual",
                       "use after-commit for other services")
