"""Which AMQP queue or exchange each brokered link uses.

A client's (or a service's outgoing) link into a broker names a channel (its queue for point-to-point
styles, its exchange for publish styles), by default the client's own name. A
broker's link to a service consumes one of the channels its clients feed; when
the broker carries exactly one, the link needs no `channel:` at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from engines.topology.model import BrokerNode, ClientNode, ServiceNode, Topology
from engines.topology.vocabulary import Style


@dataclass(frozen=True)
class Channel:
    broker: str
    name: str
    publish: bool  # an exchange (one-to-many) rather than a queue
    styles: frozenset[Style]


@dataclass
class ChannelPlan:
    by_link: dict[str, Channel]
    problems: list[tuple[int, str, str]]  # (link index, field, message)


def plan(topology: Topology) -> ChannelPlan:
    """Resolve every amqp link's channel; report links that cannot be resolved."""
    feeds: dict[tuple[str, str], set[Style]] = {}
    by_link: dict[str, Channel] = {}
    problems: list[tuple[int, str, str]] = []
    names = {n.name: n for n in topology.nodes}

    for link in topology.links:
        source, target = names.get(link.source), names.get(link.target)
        if isinstance(source, ClientNode | ServiceNode) and isinstance(target, BrokerNode):
            style = topology.sender_style(link)  # a service's outgoing link has its own
            assert style is not None
            feeds.setdefault((target.name, link.channel or source.name), set()).add(style)

    channels: dict[tuple[str, str], Channel] = {}
    for (broker, name), styles in feeds.items():
        channels[(broker, name)] = Channel(
            broker, name, publish=any(s.one_to_many for s in styles), styles=frozenset(styles)
        )

    for index, link in enumerate(topology.links):
        source, target = names.get(link.source), names.get(link.target)
        if isinstance(source, ClientNode | ServiceNode) and isinstance(target, BrokerNode):
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
                    problems.append(
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
    return ChannelPlan(by_link=by_link, problems=problems)
