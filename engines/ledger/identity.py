"""Message identity across the hops of a chain: one place for how IDs are made and followed.

A message ID is (client index, sequence) packed into one integer
(`engines.transports.wire.message_id`). In a chain, each outgoing link of a
service sends as a *hop sender*, one per (link, origin client), with its own
client index in the run's `clients` table and the name `'<link>@<origin>'`.
The downstream ID of an upstream message (c, seq) on link L is

    (index of hop sender (L, origin(c)), seq)

so it depends only on the upstream ID and the hop: a retry or a redelivery
upstream makes the same downstream ID, which a downstream idempotent consumer
refuses. The origin (client name and sequence number) is carried by every
message: the sequence number is kept across hops and the hop sender's name
names the origin client. Stdlib only: node programs import this.
"""

from __future__ import annotations

from collections.abc import Mapping

HOP_SEPARATOR = "@"


def hop_name(link: str, origin: str) -> str:
    """The name of the hop sender on `link` for messages that started at client `origin`."""
    return f"{link}{HOP_SEPARATOR}{origin}"


def parse_hop_name(name: str) -> tuple[str, str] | None:
    """(link, origin) of a hop sender's name, or None for a client's own name."""
    link, sep, origin = name.rpartition(HOP_SEPARATOR)
    return (link, origin) if sep and "->" in link else None


def origin_of(name: str) -> str:
    """The client a sender's messages started at: itself, or the origin of a hop sender."""
    parsed = parse_hop_name(name)
    return parsed[1] if parsed else name


class HopIds:
    """Downstream IDs of one outgoing link: upstream client index -> this hop's sender index."""

    def __init__(self, link: str, by_upstream: Mapping[int, int]) -> None:
        self.link = link
        self.by_upstream = dict(by_upstream)

    def downstream(self, client: int, seq: int) -> tuple[int, int] | None:
        """The downstream ID of upstream message (client, seq), or None if this hop does not carry it."""
        index = self.by_upstream.get(client)
        return None if index is None else (index, seq)

    def carries(self, client: int) -> bool:
        """Whether this hop carries messages of upstream client `client` (then `downstream`
        keeps each one's sequence number: many are derived at once without a call each)."""
        return client in self.by_upstream
