"""Channel specs for amqp links: what each client publishes to and each service consumes.

Runs in the supervisor (it reads the pydantic model); the specs are plain
dicts shipped to the node processes in `Peer.channel` and `Inbound.channel`
(see engines/transports/amqp_declare.py for the fields). Which queue or
exchange a link uses comes from `engines.topology.channels.plan`.

- point to point (notification, request styles): one queue named after the
  channel, consumed by every service linked to it (competing consumers);
- publish styles: an exchange named after the channel, one queue
  `<channel>.<service>` per subscriber, bound with the subscriber link's
  routing key (topic) or none (fanout).
"""

from __future__ import annotations

from typing import Any

from engines.topology.channels import Channel, plan
from engines.topology.model import BrokerNode, ClientNode, Link, Overflow, ServiceNode, Topology
from engines.topology.relevance import effective_queue_type


def _consumer_links(topology: Topology, channel: Channel, by_link: dict[str, Channel]) -> list[Link]:
    return [
        link for link in topology.links
        if by_link.get(link.key) == channel and isinstance(topology.node(link.source), BrokerNode)
        and isinstance(topology.node(link.target), ServiceNode)
    ]


def _client_links(topology: Topology, channel: Channel, by_link: dict[str, Channel]) -> list[Link]:
    return [
        link for link in topology.links
        if by_link.get(link.key) == channel
        and isinstance(topology.node(link.source), ClientNode | ServiceNode)
        and isinstance(topology.node(link.target), BrokerNode)
    ]


def queue_type(topology: Topology, link: Link, _broker: str) -> str:
    return effective_queue_type(topology, link)


# Link fields that become queue arguments (engines/transports/amqp_declare.py names them).
QUEUE_SETTINGS = ("exclusive", "auto_delete", "delivery_limit", "message_ttl_ms", "expires_ms", "max_length",
                  "max_length_bytes", "overflow", "dead_letter_exchange", "dead_letter_routing_key")


def _queue_settings(link: Link | None) -> dict[str, Any]:
    out = {key: getattr(link, key) if link is not None else None for key in QUEUE_SETTINGS}
    out["exclusive"], out["auto_delete"] = bool(out["exclusive"]), bool(out["auto_delete"])
    # x-overflow only when it is not RabbitMQ's default (drop-head): nothing the file did not say
    overflow = out["overflow"]
    out["overflow"] = None if overflow is None or overflow is Overflow.DROP_HEAD else overflow.value
    return out


def channel_spec(topology: Topology, channel: Channel, by_link: dict[str, Channel],
                 dead_letters: dict[tuple[str, str], Channel] | None = None) -> dict[str, Any]:
    """The full spec of one channel (both sides declare all of it).

    `dead_letter_specs`: the channels its queues dead-letter into, declared
    first so that a dead letter always finds its queue.
    """
    spec = _channel_spec(topology, channel, by_link)
    targets = [dl for dl in (dead_letters or {}).values()
               if dl.broker == channel.broker and channel.name in dl.dead_letters_of]
    if targets:
        spec["dead_letter_specs"] = [_channel_spec(topology, dl, by_link) for dl in targets]
    return spec


def _channel_spec(topology: Topology, channel: Channel, by_link: dict[str, Channel]) -> dict[str, Any]:
    consumers = _consumer_links(topology, channel, by_link)
    producers = _client_links(topology, channel, by_link)
    services = [link.target for link in consumers]
    if channel.publish:
        kind = producers[0].exchange_type.value if producers else "fanout"
        queues = [
            {"name": f"{channel.name}.{link.target}", "service": link.target,
             "durable": link.durable, "queue_type": queue_type(topology, link, channel.broker),
             "bind": (link.routing_key if kind == "topic" else ""), **_queue_settings(link)}
            for link in consumers
        ]
        return {
            "broker": channel.broker, "name": channel.name, "publish": True,
            "exchange": channel.name, "exchange_type": kind,
            "exchange_durable": all(link.durable for link in producers) if producers else True,
            "routing_key": (producers[0].routing_key if kind == "topic" and producers else ""),
            "queues": queues, "services": services,
        }
    first = consumers[0] if consumers else (producers[0] if producers else None)
    queue = {"name": channel.name, "service": services[0] if services else None,
             "durable": first.durable if first else True,
             "queue_type": queue_type(topology, first, channel.broker) if first else "classic",
             "bind": None, **_queue_settings(first)}
    return {
        "broker": channel.broker, "name": channel.name, "publish": False, "exchange": "",
        "exchange_type": "direct", "exchange_durable": True, "routing_key": channel.name,
        "queues": [queue], "services": services,
    }


def link_specs(topology: Topology) -> dict[str, dict[str, Any]]:
    """Spec per amqp link key: client->broker links and broker->service links.

    A broker->service spec adds `consume`, the queue that service reads.
    """
    channel_plan = plan(topology)
    by_link = channel_plan.by_link
    specs: dict[str, dict[str, Any]] = {}
    cache: dict[Channel, dict[str, Any]] = {}
    for link in topology.links:
        channel = by_link.get(link.key)
        if channel is None:
            continue
        spec = cache.setdefault(channel, channel_spec(topology, channel, by_link,
                                                      channel_plan.dead_letters))
        if isinstance(topology.node(link.source), BrokerNode):
            consume = f"{channel.name}.{link.target}" if channel.publish else channel.name
            specs[link.key] = {**spec, "consume": consume}
        else:
            specs[link.key] = dict(spec)
    return specs


def queue_names(topology: Topology) -> dict[str, list[str]]:
    """Every queue of every broker (for the queue depth sampler), by broker name.

    Not the queues with x-expires (the sampler's passive queue.declare counts
    as a use and would keep them from ever expiring), nor exclusive ones (only
    their owner's connection may touch them).
    """
    found: dict[str, set[str]] = {}
    for spec in link_specs(topology).values():
        for one in (spec, *spec.get("dead_letter_specs", ())):
            for queue in one["queues"]:
                if queue.get("expires_ms") is None and not queue.get("exclusive"):
                    found.setdefault(one["broker"], set()).add(queue["name"])
    return {broker: sorted(names) for broker, names in found.items()}


def queue_consumers(topology: Topology) -> dict[tuple[str, str], list[str]]:
    """The services that consume each queue, by (broker, queue): the end of a run waits for
    them while their queue still holds messages. Not streams: a stream keeps every message it
    received, so its count is the log's length, not what waits for a consumer (and a consumer
    that attached at a time or the end never reads what came before)."""
    specs = link_specs(topology)
    found: dict[tuple[str, str], list[str]] = {}
    for link in topology.links:
        spec = specs.get(link.key)
        if spec is not None and "consume" in spec and effective_queue_type(topology, link) != "stream":
            found.setdefault((spec["broker"], spec["consume"]), []).append(link.target)
    return found
