"""Which AMQP queue or exchange each brokered link uses.

A client's link into a broker names a channel (its queue for point-to-point
styles, its exchange for publish styles), by default the client's own name. A
broker's link to a service consumes one of the channels its clients feed; when
the broker carries exactly one, the link needs no `channel:` at all.

Dead letters make channels too: a consumer link with `dead_letter_exchange: ""`
(the default exchange) feeds the queue named by its `dead_letter_routing_key`;
with a named exchange, that exchange (fanout, one queue per consumer). A
service consumes dead letters by naming that channel (`channel: <name>`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engines.topology.model import BrokerNode, ClientNode, Link, ServiceNode, Topology
from engines.topology.vocabulary import Style


@dataclass(frozen=True)
class Channel:
    broker: str
    name: str
    publish: bool  # an exchange (one-to-many) rather than a queue
    styles: frozenset[Style]
    dead_letters_of: frozenset[str] = frozenset()  # source channels, for a dead-letter channel


@dataclass
class ChannelPlan:
    by_link: dict[str, Channel]
    problems: list[tuple[int, str, str]]  # (link index, field, message)
    dead_letters: dict[tuple[str, str], Channel] = field(default_factory=dict)  # (broker, name)


def plan(topology: Topology) -> ChannelPlan:
    """Resolve every amqp link's channel; report links that cannot be resolved."""
    feeds: dict[tuple[str, str], set[Style]] = {}
    by_link: dict[str, Channel] = {}
    problems: list[tuple[int, str, str]] = []
    names = {n.name: n for n in topology.nodes}

    for link in topology.links:
        source, target = names.get(link.source), names.get(link.target)
        if isinstance(source, ClientNode) and isinstance(target, BrokerNode):
            feeds.setdefault((target.name, link.channel or source.name), set()).add(source.style)

    channels: dict[tuple[str, str], Channel] = {}
    for (broker, name), styles in feeds.items():
        channels[(broker, name)] = Channel(
            broker, name, publish=any(s.one_to_many for s in styles), styles=frozenset(styles)
        )

    deferred: list[tuple[int, str, str]] = []  # consumer links naming a channel no client feeds
    for index, link in enumerate(topology.links):
        source, target = names.get(link.source), names.get(link.target)
        if isinstance(source, ClientNode) and isinstance(target, BrokerNode):
            channel = channels[(target.name, link.channel or source.name)]
            if any(s.one_to_many for s in channel.styles) and not all(
                s.one_to_many for s in channel.styles
            ):
                problems.append(
                    (
                        index,
                        "channel",
                        f"channel '{channel.name}' on broker '{target.name}' mixes queue styles and "
                        "publish styles; give one of these links its own 'channel:'",
                    )
                )
            by_link[link.key] = channel
        elif isinstance(source, BrokerNode) and isinstance(target, ServiceNode):
            offered = sorted(name for (broker, name) in channels if broker == source.name)
            if link.channel is not None:
                if (source.name, link.channel) not in channels:
                    hint = f"it carries: {', '.join(offered)}" if offered else "no client sends to it"
                    deferred.append(
                        (index, "channel", f"no client sends to channel '{link.channel}' on broker "
                         f"'{source.name}' ({hint})")
                    )
                    continue
                by_link[link.key] = channels[(source.name, link.channel)]
            elif len(offered) == 1:
                by_link[link.key] = channels[(source.name, offered[0])]
            elif not offered:
                problems.append(
                    (index, "from", f"broker '{source.name}' has no client sending to it, so "
                     f"'{target.name}' would never receive anything")
                )
            else:
                problems.append(
                    (index, "channel", f"broker '{source.name}' carries several channels "
                     f"({', '.join(offered)}); set 'channel:' to the one '{target.name}' consumes")
                )
    dead = _dead_letter_channels(topology, by_link, channels)
    for index, fld, message in deferred:
        link = topology.links[index]
        key = (link.source, link.channel or "")
        if key in dead:
            by_link[link.key] = dead[key]
        else:
            problems.append((index, fld, message))
    return ChannelPlan(by_link=by_link, problems=problems, dead_letters=dead)


def dead_letter_target(link: Link) -> tuple[str, bool] | None:
    """(channel name, is an exchange) where a consumer link's queue sends its dead letters."""
    if link.dead_letter_exchange is None:
        return None
    if link.dead_letter_exchange == "":
        return (link.dead_letter_routing_key, False) if link.dead_letter_routing_key else None
    return link.dead_letter_exchange, True


def _dead_letter_channels(topology: Topology, by_link: dict[str, Channel],
                          channels: dict[tuple[str, str], Channel]) -> dict[tuple[str, str], Channel]:
    """Channels fed by dead-lettering from the resolved consumer links, by (broker, name)."""
    sources: dict[tuple[str, str], tuple[bool, set[str], set[Style]]] = {}
    for link in topology.links:
        channel = by_link.get(link.key)
        target = dead_letter_target(link)
        if channel is None or target is None or not topology.has_node(link.source) \
                or not isinstance(topology.node(link.source), BrokerNode):
            continue
        name, publish = target
        if (channel.broker, name) in channels:
            continue  # a client's channel already (validation says why that is refused)
        entry = sources.setdefault((channel.broker, name), (publish, set(), set()))
        entry[1].add(channel.name)
        entry[2].update(channel.styles)
    return {key: Channel(key[0], key[1], publish=publish, styles=frozenset(styles),
                         dead_letters_of=frozenset(of))
            for key, (publish, of, styles) in sources.items()}
