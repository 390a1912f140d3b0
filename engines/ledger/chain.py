"""The ledger of a chain: per client, how far its messages got, hop by hop (issue 12).

Every hop sender (engines.ledger.identity) is reconciled like a client by
`engines.ledger.reconcile.compute`, which gives each hop's link its counters.
This module follows the origin IDs across hops. A downstream ID keeps the
upstream sequence number, so for an origin client and a hop from service S on
link L, over that client's sequence numbers:

    upstream    IDs committed at S (any of S's inbound streams of that origin)
    reached     IDs committed downstream of L (at any of its targets; at every
                subscriber for publish-subscribe)
    hop_lost    upstream and not reached: the hop dropped them (e.g. a dual write
                whose service died between its commit and its send)
    orphans     reached and not upstream: a downstream effect whose upstream
                never committed (a call that answered after its caller gave up)
    duplicates  effects applied twice downstream + duplicates refused there

and end to end: `e2e_reached` = IDs committed at the first service and at
the end of every branch, `e2e_lost` = committed at the first service but
missing at the end of some branch. Rows come from committed SQLite rows only;
a SIGKILLed service keeps every commit, so these are exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engines.ledger.reconcile import ClientBook, ServiceBook


@dataclass
class ChainHop:
    """A hop sender's book with where it sits in the chain."""

    book: ClientBook
    link: str
    source: str  # the service that sends
    origin: str  # the client its messages started at
    upstream: list[int] = field(default_factory=list)  # client indices of the streams into `source`


def _seqs(service: ServiceBook | None, indices: list[int], table: str = "effects") -> np.ndarray:
    if service is None:
        return np.zeros(0, dtype=np.int64)
    source = service.effects if table == "effects" else service.refused
    parts = [source[i] for i in indices if i in source]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def _effects(service: ServiceBook | None, index: int) -> np.ndarray:
    if service is None or index not in service.effects:
        return np.zeros(0, dtype=np.int64)
    return service.effects[index]


def compute(clients: list[ClientBook], hops: list[ChainHop],
            services: Mapping[str, ServiceBook]) -> dict[str, Any]:
    """{client: {"stages": [...], "e2e_reached", "e2e_lost", ...}} in the order of the hops."""
    out: dict[str, Any] = {}
    for client in clients:
        mine = [h for h in hops if h.origin == client.name]
        if not mine:
            continue
        first = {r.service for r in client.routes}
        entered = _seqs_union([_effects(services.get(s), client.index) for s in first])
        stages: list[dict[str, Any]] = []
        reached_by_link: dict[str, np.ndarray] = {}
        for hop in mine:
            up = _seqs(services.get(hop.source), hop.upstream)
            arrived = [services.get(r.service) for r in hop.book.routes]
            each = [_effects(s, hop.book.index) for s in arrived]
            reached = _seqs_union(each)
            if hop.book.one_to_many:  # an event for every subscriber: reached = reached all of them
                for seqs in each:
                    reached = np.intersect1d(reached, seqs)
            doubled = sum(len(seqs) - len(np.unique(seqs)) for seqs in each)
            refused = sum(len(s.refused.get(hop.book.index, [])) for s in arrived if s is not None)
            reached_by_link[hop.link] = reached
            stages.append({
                "link": hop.link, "from": hop.source,
                "to": ", ".join(r.service for r in hop.book.routes),
                "upstream": int(len(up)), "reached": int(len(reached)),
                "hop_lost": int(len(np.setdiff1d(up, reached))),
                "orphans": int(len(np.setdiff1d(reached, up))),
                "duplicates_processed": int(doubled),
                "duplicates_suppressed": int(refused),
            })
        sources = {h.source for h in mine}
        leaves = [h for h in mine if not any(r.service in sources for r in h.book.routes)]
        end = entered
        for leaf in leaves:
            end = np.intersect1d(end, reached_by_link[leaf.link])
        out[client.name] = {
            "entered": int(len(entered)), "stages": stages,
            "e2e_reached": int(len(end)), "e2e_lost": int(len(entered) - len(end)),
            "e2e_duplicates": sum(s["duplicates_processed"] + s["duplicates_suppressed"] for s in stages),
        }
    return out


def _seqs_union(parts: list[np.ndarray]) -> np.ndarray:
    parts = [p for p in parts if len(p)]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
