"""What an amqp node declares on the broker, from the channel spec the supervisor hands it.

A channel spec is plain data (built by `engines.brokers.plan` from the
topology, shipped to the node inside `Peer.channel` / `Inbound.channel`):

    name            the link's channel: queue name (point to point) or exchange name
    publish         True for publish styles (an exchange, one queue per subscriber)
    exchange        "" (the default exchange) or the exchange name
    exchange_type   "fanout" or "topic" (publish styles)
    exchange_durable
    routing_key     what the client publishes with
    queues          [{name, service, durable, queue_type, bind, delivery_limit...}]; `bind`
                    is the binding key of a subscriber queue, None for the default exchange;
                    the other keys are the queue settings of QUEUE_ARGUMENTS (None = unset)
    subscribers     publish styles: subscriber service names, in order (reply peer index)
    dead_letter_specs  channel specs its queues dead-letter into (declared first)
    consume         service side: the queue this service consumes

Both sides declare everything of the channel, after every (re)connect: a
broker restarted without its non-durable queues gets them back before anyone
publishes or consumes (DESIGN trap: after reconnecting, declare again).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

# Queue settings -> the x-arguments RabbitMQ reads. Nothing is added that the
# file did not set: RabbitMQ 3.10 quorum queues have no default delivery limit,
# so neither does the lab (a message rejected forever loops forever: DESIGN trap).
QUEUE_ARGUMENTS = (
    ("delivery_limit", "x-delivery-limit"),
    ("message_ttl_ms", "x-message-ttl"),
    ("expires_ms", "x-expires"),
    ("max_length", "x-max-length"),
    ("max_length_bytes", "x-max-length-bytes"),
    ("overflow", "x-overflow"),
    ("dead_letter_exchange", "x-dead-letter-exchange"),
    ("dead_letter_routing_key", "x-dead-letter-routing-key"),
)


def queue_arguments(queue: Mapping[str, Any]) -> dict[str, Any] | None:
    args: dict[str, Any] = {}
    if queue.get("queue_type", "classic") != "classic":
        args["x-queue-type"] = queue["queue_type"]
    for key, argument in QUEUE_ARGUMENTS:
        if queue.get(key) is not None:
            args[argument] = queue[key]
    return args or None


def queue_durable(queue: Mapping[str, Any]) -> bool:
    """As the link says: validation refuses what the broker would (a non-durable quorum queue)."""
    return bool(queue.get("durable", True))


def declare_operations(spec: Mapping[str, Any], owner: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The declare/bind calls for a channel, in order, as (method name, kwargs).

    An exclusive queue belongs to one connection: only its consumer (`owner`,
    the node declaring) declares and binds it; anyone else would be locked out.
    """
    ops: list[tuple[str, dict[str, Any]]] = []
    for dead in spec.get("dead_letter_specs", ()):  # where dead letters go exists first
        ops += declare_operations(dead, owner)
    exchange = spec.get("exchange") or ""
    if exchange:
        ops.append(("exchange_declare", {
            "exchange": exchange,
            "exchange_type": spec.get("exchange_type", "fanout"),
            "durable": bool(spec.get("exchange_durable", True)),
        }))
    for queue in spec.get("queues", ()):
        if queue.get("exclusive") and queue.get("service") != owner:
            continue
        ops.append(("queue_declare", {
            "queue": queue["name"],
            "durable": queue_durable(queue),
            "exclusive": bool(queue.get("exclusive", False)),
            "auto_delete": bool(queue.get("auto_delete", False)),
            "arguments": queue_arguments(queue),
        }))
        if exchange:
            ops.append(("queue_bind", {
                "queue": queue["name"], "exchange": exchange,
                "routing_key": queue.get("bind") or "",
            }))
    return ops


def declare(channel: Any, specs: Sequence[Mapping[str, Any]], done: Callable[[], None],
            owner: str | None = None) -> None:
    """Run every spec's declarations on a pika (async) channel, one after another, then `done()`.

    A declaration the broker refuses (e.g. a queue that exists with other
    settings) closes the channel; the session's channel-closed callback sees it.
    """
    ops = [op for spec in specs for op in declare_operations(spec, owner)]
    seen: set[tuple[str, str]] = set()
    unique = []
    for name, kwargs in ops:
        key = (name, repr(sorted(kwargs.items())))
        if key not in seen:
            seen.add(key)
            unique.append((name, kwargs))

    def step(index: int) -> None:
        if index == len(unique):
            done()
            return
        name, kwargs = unique[index]
        getattr(channel, name)(callback=lambda _frame: step(index + 1), **kwargs)

    step(0)
