"""What RabbitMQ would refuse or ignore in a topology's queue settings, said before the run.

The broker answers an invalid `queue.declare` by closing the channel with a
PRECONDITION_FAILED text; a run would then only show a consumer that never
starts. These checks give the same answer up front, next to the link that set
it, in the broker's own words (texts measured on Debian's RabbitMQ 3.10 and
asserted against it in tests/brokers/test_amqp_settings.py). Settings the
broker accepts but ignores (a prefetch with automatic acks) are warnings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engines.topology import channels
from engines.topology.model import (
    AckMode,
    BrokerNode,
    ClientNode,
    Link,
    RejectMode,
    ServiceNode,
    Topology,
)

VHOST = "/"


def invalid_property(prop: str, queue: str) -> str:
    """RabbitMQ 3.10's answer to a queue property its queue type cannot have."""
    return f"PRECONDITION_FAILED - invalid property '{prop}' for queue '{queue}' in vhost '{VHOST}'"


def invalid_arg_reason(arg: str, queue: str, reason: str) -> str:
    """RabbitMQ 3.10's answer to an x-argument it cannot use, with its reason."""
    return f"PRECONDITION_FAILED - invalid arg '{arg}' for queue '{queue}' in vhost '{VHOST}': {reason}"


def invalid_arg(arg: str, queue: str, queue_type: str) -> str:
    """RabbitMQ 3.10's answer to an x-argument its queue type does not take."""
    return (f"PRECONDITION_FAILED - invalid arg '{arg}' for queue '{queue}' in vhost '{VHOST}' "
            f"of queue type rabbit_{queue_type}_queue")


def resource_locked(queue: str) -> str:
    """RabbitMQ 3.10's answer to a second connection touching an exclusive queue."""
    return (f"RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '{queue}' in vhost "
            f"'{VHOST}'. It could be originally declared on another connection or the exclusive "
            "property value does not match that of the original declaration.")


def inequivalent_arg(arg: str, queue: str, current: object, received: object) -> str:
    """RabbitMQ 3.10's answer to a second declaration of a queue with other settings.

    Values as pika sends them: None for an argument not sent, str, int or bool.
    """
    return (f"PRECONDITION_FAILED - inequivalent arg '{arg}' for queue '{queue}' in vhost "
            f"'{VHOST}': received {_shown(received, current is None)} but current is "
            f"{_shown(current, received is None)}")


def _shown(value: object, typed: bool) -> str:
    if value is None:
        return "none"
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if typed:
        kind = "longstr" if isinstance(value, str) else "signedint"
        return f"the value '{text}' of type '{kind}'"
    return f"'{text}'"


@dataclass(frozen=True)
class Finding:
    link: int | None  # index into topology.links, or None for a node finding
    node: int | None  # index into topology.nodes
    field: str | None
    message: str
    hint: str | None = None
    warning: bool = False


# Link field -> (what the broker calls it, the value pika sends for it); checked in this order.
_DECLARED: dict[str, tuple[str, Callable[[Link], object]]] = {
    "durable": ("durable", lambda lk: lk.durable),
    "auto_delete": ("auto_delete", lambda lk: lk.auto_delete),
    "queue_type": ("x-queue-type",
                   lambda lk: None if lk.queue_type.value == "classic" else lk.queue_type.value),
    "delivery_limit": ("x-delivery-limit", lambda lk: lk.delivery_limit),
    "message_ttl_ms": ("x-message-ttl", lambda lk: lk.message_ttl_ms),
    "expires_ms": ("x-expires", lambda lk: lk.expires_ms),
    "max_length": ("x-max-length", lambda lk: lk.max_length),
    "max_length_bytes": ("x-max-length-bytes", lambda lk: lk.max_length_bytes),
    "overflow": ("x-overflow",
                 lambda lk: None if lk.overflow.value == "drop-head" else lk.overflow.value),
    "dead_letter_exchange": ("x-dead-letter-exchange", lambda lk: lk.dead_letter_exchange),
    "dead_letter_routing_key": ("x-dead-letter-routing-key", lambda lk: lk.dead_letter_routing_key),
}


def queue_of(link: Link, channel: channels.Channel) -> str:
    """The queue a broker->service link consumes (engines/brokers/plan.py names them alike)."""
    return f"{channel.name}.{link.target}" if channel.publish else channel.name


def check(topology: Topology) -> list[Finding]:
    """Every queue setting the broker would refuse or ignore."""
    found: list[Finding] = []
    by_link = channels.plan(topology).by_link
    owners: dict[tuple[str, str], int] = {}  # (broker, queue) -> first link declaring it
    for j, link in enumerate(topology.links):
        channel = by_link.get(link.key)
        if channel is None or not isinstance(topology.node(link.source), BrokerNode):
            continue
        queue = queue_of(link, channel)
        kind = link.queue_type.value
        if kind == "stream":
            found += _stream(topology, j, link, queue)
        if kind in ("quorum", "stream") and not link.durable:
            found.append(Finding(j, None, "durable", invalid_property("non-durable", queue),
                                 f"{kind} queues are always durable: remove 'durable: false' or "
                                 "use a classic queue"))
        if kind in ("quorum", "stream") and link.exclusive:
            found.append(Finding(j, None, "exclusive", invalid_property("exclusive-owner", queue),
                                 f"{kind} queues cannot be exclusive: use a classic queue"))
        elif kind in ("quorum", "stream") and link.auto_delete:
            found.append(Finding(j, None, "auto_delete", invalid_property("auto-delete", queue),
                                 f"{kind} queues cannot auto-delete: use a classic queue"))
        if link.delivery_limit is not None and kind != "quorum":
            found.append(Finding(j, None, "delivery_limit",
                                 invalid_arg("x-delivery-limit", queue, kind),
                                 "delivery limits exist on quorum queues only"))
        found += _dead_letters(topology, j, link, queue, by_link)
        first = owners.setdefault((channel.broker, queue), j)
        if first != j and (link.exclusive or topology.links[first].exclusive):
            found.append(Finding(j, None, "exclusive", resource_locked(queue),
                                 "an exclusive queue has one consumer: give the others their own "
                                 "queue, or make it not exclusive"))
            continue
        if first != j:
            other = topology.links[first]
            for key, (arg, sent) in _DECLARED.items():
                if sent(link) != sent(other):
                    found.append(Finding(j, None, key, inequivalent_arg(
                        arg, queue, sent(other), sent(link)),
                        f"competing consumers share queue '{queue}': give this link the "
                        f"settings of '{other.key}'"))
                    break  # the broker stops at the first difference
    for i, node in enumerate(topology.nodes):
        if isinstance(node, ServiceNode):
            found += _rejects(i, node)
            if node.reply_mandatory and _direct_callers(topology, node):
                found.append(Finding(None, i, "reply_mandatory",
                                     "RabbitMQ 3.10 returns every mandatory reply to a direct reply-to "
                                     "address, delivered or not: replies_returned will count them all",
                                     f"callers with 'reply_to: direct': "
                                     f"{', '.join(_direct_callers(topology, node))}", warning=True))
        if not isinstance(node, ServiceNode) or node.ack is not AckMode.AUTO:
            continue
        fed = any(isinstance(topology.node(lk.source), BrokerNode)
                  for lk in topology.links_to(node.name) if topology.has_node(lk.source))
        if fed and ("prefetch" in node.model_fields_set
                    or node.prefetch != ServiceNode.model_fields["prefetch"].default):
            found.append(Finding(None, i, "prefetch",
                                 f"prefetch {node.prefetch} is ignored with 'ack: auto'",
                                 "basic.qos limits unacknowledged deliveries, and an auto-ack "
                                 "consumer has none: the broker pushes as fast as it can",
                                 warning=True))
    return found


def _dead_letters(topology: Topology, j: int, link: Link, queue: str,
                  by_link: dict[str, channels.Channel]) -> list[Finding]:
    if link.dead_letter_exchange is None:
        if link.dead_letter_routing_key is not None:
            return [Finding(j, None, "dead_letter_routing_key", invalid_arg_reason(
                "x-dead-letter-routing-key", queue, "routing_key_but_no_dlx_defined"),
                "set dead_letter_exchange too ('' for the default exchange)")]
        return []
    if link.queue_type.value == "stream":
        return [Finding(j, None, "dead_letter_exchange",
                        invalid_arg("x-dead-letter-exchange", queue, "stream"))]
    target = channels.dead_letter_target(link)
    if target is None:  # the default exchange with the message's own routing key
        return [Finding(j, None, "dead_letter_routing_key",
                        "dead letters through the default exchange keep their routing key, "
                        f"so they go back to '{queue}' (or nowhere)",
                        "set dead_letter_routing_key to the dead-letter queue's name")]
    name, _exchange = target
    broker = link.source
    fed = any(isinstance(topology.node(lk.source), ClientNode) and by_link.get(lk.key) is not None
              and by_link[lk.key].broker == broker and by_link[lk.key].name == name
              for lk in topology.links if topology.has_node(lk.source))
    if fed:
        return [Finding(j, None, "dead_letter_routing_key" if not _exchange else "dead_letter_exchange",
                        f"dead letters would go to channel '{name}', which a client sends to",
                        "give the dead-letter queue a name of its own")]
    consumed = any(lk.source == broker and lk.channel == name for lk in topology.links)
    if not consumed:
        where = f"pile up in queue '{name}'" if not _exchange else \
            f"are dropped by exchange '{name}' (no queue is bound to it)"
        return [Finding(j, None, "dead_letter_exchange", f"dead letters {where}: no service consumes them",
                        f"link a service from '{broker}' with 'channel: {name}' to count them",
                        warning=True)]
    return []


def _rejects(i: int, node: ServiceNode) -> list[Finding]:
    found: list[Finding] = []
    if node.reject is not RejectMode.NEVER and node.ack is AckMode.AUTO:
        found.append(Finding(None, i, "reject", "a consumer with 'ack: auto' cannot reject: the "
                             "broker forgot each message when it sent it", "set 'ack: manual'"))
    if node.reject is RejectMode.FAILED and node.fail_every is None:
        found.append(Finding(None, i, "fail_every", "'reject: failed' needs messages that fail",
                             "set 'fail_every: N' (every Nth message fails, every time)"))
    if node.fail_every is not None and node.reject is not RejectMode.FAILED:
        found.append(Finding(None, i, "reject", "'fail_every' makes messages fail, and only "
                             "'reject: failed' says what happens to them", "set 'reject: failed'"))
    return found


def _direct_callers(topology: Topology, service: ServiceNode) -> list[str]:
    """Clients with direct reply-to whose requests reach `service` through a broker."""
    by_link = channels.plan(topology).by_link
    mine = {by_link[lk.key] for lk in topology.links_to(service.name) if lk.key in by_link}
    return [c.name for c in topology.clients() if c.reply_to.value == "direct"
            and any(by_link.get(lk.key) in mine for lk in topology.links_from(c.name))]


def no_prefetch(queue: str) -> str:
    """RabbitMQ 3.10's answer to a stream consumer without a prefetch (or with automatic acks)."""
    return f"PRECONDITION_FAILED - consumer prefetch count is not set for 'queue '{queue}' in vhost '{VHOST}''"


def _stream(topology: Topology, j: int, link: Link, queue: str) -> list[Finding]:
    """A stream takes no message TTL (it has x-max-age) and no dead-lettering; its consumers
    need manual acks and a prefetch."""
    found: list[Finding] = []
    if link.message_ttl_ms is not None:
        found.append(Finding(j, None, "message_ttl_ms", invalid_arg("x-message-ttl", queue, "stream"),
                             "a stream keeps messages by size or age, not per-message TTL"))
    consumer = topology.node(link.target) if topology.has_node(link.target) else None
    if isinstance(consumer, ServiceNode) and (consumer.ack is AckMode.AUTO or consumer.prefetch == 0):
        found.append(Finding(j, None, "queue_type", no_prefetch(queue),
                             f"a stream consumer needs 'ack: manual' and a prefetch above 0 "
                             f"('{consumer.name}' has ack {consumer.ack.value}, prefetch "
                             f"{consumer.prefetch})"))
    return found
