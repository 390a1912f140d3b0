"""Which fields matter for a node or link, given its kind, style and transport.

The file writer always writes these (defaults included, so a reader sees the
reliability settings in force), and the GUI's inspector shows them first. A
field that does not matter is written only when it differs from its default.
"""

from __future__ import annotations

from engines.topology.instances import feeding_clients
from engines.topology.model import (
    BrokerNode,
    ClientNode,
    CrashPoint,
    Link,
    ServiceNode,
    Topology,
    TransactionMode,
)
from engines.topology.vocabulary import Style, Transport

_CLIENT_ALWAYS = ("style", "transport", "rate", "count", "payload_bytes", "timeout_ms", "retries")
_SERVICE_ALWAYS = ("processing_ms", "reply", "idempotent")
_ROUTER_STYLES = (Style.REQUEST_RESPONSE, Style.ASYNC_REQUEST_RESPONSE)


def node_fields(topology: Topology, node: ClientNode | ServiceNode | BrokerNode) -> list[str]:
    if isinstance(node, ClientNode):
        fields = list(_CLIENT_ALWAYS)
        if node.transport is Transport.ZMQ and node.style is Style.REQUEST_RESPONSE:
            fields.append("lazy_pirate")
            if not node.lazy_pirate:
                fields += ["req_resend", "req_relaxed", "req_correlate"]
        if node.transport is Transport.ZMQ and node.style in (Style.NOTIFICATION, Style.ASYNC_REQUEST_RESPONSE):
            fields.append("immediate")
        if node.transport is Transport.ZMQ and node.heartbeat_ivl_ms > 0:
            fields += ["heartbeat_ivl_ms", "heartbeat_timeout_ms", "heartbeat_ttl_ms"]
        if node.transport is Transport.ZMQ and node.style in (Style.NOTIFICATION, Style.PUBLISH_SUBSCRIBE):
            fields += ["zmq_binds", "linger_ms"]
        if node.transport is Transport.ZMQ and node.style.one_to_many:
            fields.append("wait_for_subscribers")
        if node.transport is Transport.ZMQ and node.style is Style.NOTIFICATION:
            fields.append("messages_per_frame")
        if node.style in (Style.ASYNC_REQUEST_RESPONSE,):
            fields.append("in_flight")
        if node.style is Style.PUBLISH_ASYNC_RESPONSES:
            fields.append("collect_ms")
        if node.transport is Transport.HTTP:
            fields.append("idempotency_key")
        if node.transport is Transport.AMQP:
            fields += ["confirms", "persistent", "mandatory", "resend_in_doubt"]
        return fields
    if isinstance(node, ServiceNode):
        fields = list(_SERVICE_ALWAYS)
        feeding = {topology.link_transport(lk) for lk in topology.links_to(node.name)}
        if feeding and feeding <= {Transport.SMTP, Transport.IMAP}:
            fields.remove("reply")  # mail is one way: nothing is replied to
        if Transport.AMQP in feeding:
            fields += ["ack", "prefetch"]
        if Transport.ZMQ in feeding:
            fields.append("hwm")
            if any(c.transport is Transport.ZMQ and c.style in _ROUTER_STYLES
                   for c in feeding_clients(topology, node)):
                fields.append("router_mandatory")
            if any(c.transport is Transport.ZMQ and c.style.one_to_many for c in feeding_clients(topology, node)):
                fields.append("subscribe")
        if node.store is not None:
            fields.append("store")
        split = node.crash is not None and node.crash.point is CrashPoint.BETWEEN_WRITES
        if node.transaction is not TransactionMode.ONE or split:
            fields.append("transaction")
        return fields
    return ["url"] if node.url else []


def link_fields(topology: Topology, link: Link) -> list[str]:
    if topology.link_transport(link) is not Transport.AMQP:
        return []
    source = topology.node(link.source)
    if isinstance(source, BrokerNode):
        fields = ["durable", "queue_type"]
        publish = any(
            isinstance(c, ClientNode) and c.style.one_to_many
            for lk in topology.links_to(source.name)
            for c in [topology.node(lk.source)] if topology.has_node(lk.source)
        )
        if publish:
            fields.append("exchange_type")
        return fields
    if isinstance(source, ClientNode) and source.style.one_to_many:
        return ["exchange_type"]
    return []
