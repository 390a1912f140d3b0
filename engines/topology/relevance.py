"""Which fields matter for a node or link, given its kind, style and transport.

The file writer always writes these (defaults included, so a reader sees the
reliability settings in force), and the GUI's inspector shows them first. A
field that does not matter is written only when it differs from its default.
"""

from __future__ import annotations

from engines.topology import pirate
from engines.topology.instances import feeding_clients
from engines.topology.model import (
    AckMode,
    BrokerNode,
    ClientNode,
    CrashPoint,
    Link,
    PirateMode,
    QueueType,
    RejectMode,
    ReplyTo,
    ServiceNode,
    Topology,
    TransactionMode,
)
from engines.topology.vocabulary import Style, Transport

_CLIENT_ALWAYS = ("style", "transport", "rate", "count", "payload_bytes", "timeout_ms", "retries")
_SERVICE_ALWAYS = ("processing_ms", "reply", "idempotent")
_ROUTER_STYLES = (Style.REQUEST_RESPONSE, Style.ASYNC_REQUEST_RESPONSE)
HEARTBEAT_DEFAULT = 5
PIRATE_FIELDS = ("pirate_heartbeat_ms", "pirate_liveness", "pirate_interval_init_ms", "pirate_interval_max_ms")
_REJECT_DETAIL = {RejectMode.FRACTION: ("reject_fraction",), RejectMode.NTH: ("reject_nth",),
                  RejectMode.FAILED: ("fail_every",)}


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
            if node.expiration_ms is not None:
                fields.append("expiration_ms")
            if not node.declare:
                fields.append("declare")
            if node.heartbeat_s != HEARTBEAT_DEFAULT:
                fields.append("heartbeat_s")
            if node.style.expects_reply and node.style is not Style.PUBLISH_ASYNC_RESPONSES \
                    and node.reply_to is not ReplyTo.QUEUE:
                fields.append("reply_to")
        return fields
    if isinstance(node, ServiceNode) and node.pirate is not None:  # a queue: its own settings only
        return ["pirate", "hwm", *(PIRATE_FIELDS if node.pirate is PirateMode.PARANOID else ())]
    if isinstance(node, ServiceNode):
        fields = list(_SERVICE_ALWAYS)
        if node.heavy_every is not None:
            fields += ["heavy_every", "heavy_ms"]
        feeding = {topology.link_transport(lk) for lk in topology.links_to(node.name)}
        if feeding and feeding <= {Transport.SMTP, Transport.IMAP}:
            fields.remove("reply")  # mail is one way: nothing is replied to
        if Transport.AMQP in feeding:
            fields.append("ack")
            if node.ack is not AckMode.AUTO:  # basic.qos means nothing to an auto-ack consumer
                fields.append("prefetch")
            if node.reply_mandatory:
                fields.append("reply_mandatory")
            if node.handler_thread:
                fields.append("handler_thread")
            streams = [lk for lk in topology.links_to(node.name) if lk.queue_type is QueueType.STREAM]
            if streams:
                fields.append("stream_offset")
            if node.heartbeat_s != HEARTBEAT_DEFAULT:
                fields.append("heartbeat_s")
            if node.reject is not RejectMode.NEVER:  # written once chosen (files stay short)
                fields += ["reject", *_REJECT_DETAIL.get(node.reject, ()), "requeue"]
            if node.fail_every is not None and "fail_every" not in fields:
                fields.append("fail_every")
        if Transport.ZMQ in feeding and pirate.queue_of(topology, node.name) is None:
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


def _service_link_fields(topology: Topology, link: Link) -> list[str]:
    """A service's outgoing link: its style, and a call's resilience or an event's delivery."""
    to_broker = topology.has_node(link.target) and isinstance(topology.node(link.target), BrokerNode)
    style = topology.sender_style(link)
    fields = ["style"] + ([] if to_broker else ["transport"])
    if style is not None and style.expects_reply:
        fields += ["timeout_ms", "retries"]
        if style is Style.ASYNC_REQUEST_RESPONSE and topology.link_transport(link) is not Transport.HTTP:
            fields.append("in_flight")  # a DEALER's or an amqp RPC client's requests out at once
        fields += ["max_concurrent", "breaker_failures", "breaker_open_ms"]
    else:
        fields.append("delivery")
    if to_broker and style is not None and style.one_to_many:
        fields.append("exchange_type")
    return fields


def link_fields(topology: Topology, link: Link) -> list[str]:
    if pirate.is_queue(topology, link.source):
        return []  # a worker asks its Pirate queue for work: nothing to choose on the link
    if topology.has_node(link.source) and isinstance(topology.node(link.source), ServiceNode) \
            and not topology.receives_mail(link.source):
        return _service_link_fields(topology, link)
    if topology.link_transport(link) is not Transport.AMQP:
        return []
    source = topology.node(link.source)
    if isinstance(source, BrokerNode):
        fields = ["durable", "queue_type"]
        fields += [key for key in ("exclusive", "auto_delete") if getattr(link, key)]
        if link.queue_type is QueueType.QUORUM:
            fields.append("delivery_limit")
        fields += [key for key in ("message_ttl_ms", "expires_ms", "max_length", "max_length_bytes")
                   if getattr(link, key) is not None]
        if link.max_length is not None or link.max_length_bytes is not None:
            fields.append("overflow")
        if link.dead_letter_exchange is not None:
            fields += ["dead_letter_exchange", "dead_letter_routing_key"]
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


def effective_queue_type(topology: Topology, link: Link) -> str:
    """A broker->service link's queue type: as set, else quorum on a clustered broker (a
    cluster is there to survive a member; a classic queue lives on one member only), else
    classic."""
    if "queue_type" not in link.model_fields_set and topology.has_node(link.source):
        source = topology.node(link.source)
        if isinstance(source, BrokerNode) and source.clustered:
            return "quorum"
    return str(link.queue_type.value)
