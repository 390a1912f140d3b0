"""What an amqp node declares on the broker, from the channel spec the supervisor hands it.

A channel spec is plain data (built by `engines.brokers.plan` from the
topology, shipped to the node inside `Peer.channel` / `Inbound.channel`):

    name            the link's channel: queue name (point to point) or exchange name
    publish         True for publish styles (an exchange, one queue per subscriber)
    exchange        "" (the default exchange) or the exchange name
    exchange_type   "fanout" or "topic" (publish styles)
    exchange_durable
    routing_key     what the client publishes with
    queues          [{name, service, durable, queue_type, bind}]; `bind` is the binding key
                    of a subscriber queue, None for the default exchange
    subscribers     publish styles: subscriber service names, in order (reply peer index)
    consume         service side: the queue this service consumes

Both sides declare everything of the channel, after every (re)connect: a
broker restarted without its non-durable queues gets them back before anyone
publishes or consumes (DESIGN trap: after reconnecting, declare again).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

# RabbitMQ 3.10 quorum queues have no default delivery limit: a message that is
# rejected forever would loop forever (DESIGN trap). Crash-and-redeliver runs
# need a few deliveries; twenty is plenty and still ends a poison loop.
QUORUM_DELIVERY_LIMIT = 20


def queue_arguments(queue: Mapping[str, Any]) -> dict[str, Any] | None:
    if queue.get("queue_type") == "quorum":
        return {"x-queue-type": "quorum", "x-delivery-limit": QUORUM_DELIVERY_LIMIT}
    return None


def queue_durable(queue: Mapping[str, Any]) -> bool:
    """Quorum queues are always durable; classic ones as the link says."""
    return bool(queue.get("durable", True)) or queue.get("queue_type") == "quorum"


def declare_operations(spec: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The declare/bind calls for a channel, in order, as (method name, kwargs)."""
    ops: list[tuple[str, dict[str, Any]]] = []
    exchange = spec.get("exchange") or ""
    if exchange:
        ops.append(("exchange_declare", {
            "exchange": exchange,
            "exchange_type": spec.get("exchange_type", "fanout"),
            "durable": bool(spec.get("exchange_durable", True)),
        }))
    for queue in spec.get("queues", ()):
        ops.append(("queue_declare", {
            "queue": queue["name"],
            "durable": queue_durable(queue),
            "arguments": queue_arguments(queue),
        }))
        if exchange:
            ops.append(("queue_bind", {
                "queue": queue["name"], "exchange": exchange,
                "routing_key": queue.get("bind") or "",
            }))
    return ops


def declare(channel: Any, specs: Sequence[Mapping[str, Any]], done: Callable[[], None]) -> None:
    """Run every spec's declarations on a pika (async) channel, one after another, then `done()`.

    A declaration the broker refuses (e.g. a queue that exists with other
    settings) closes the channel; the session's channel-closed callback sees it.
    """
    ops = [op for spec in specs for op in declare_operations(spec)]
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
