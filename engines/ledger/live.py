"""What a live count may call lost before a run ends, and what is only not processed yet.

While a run goes on, a message that was sent and not processed is usually
still on its way: in a broker's queue, unconfirmed at its client, or in a
socket or a consumer's prefetch. Calling it lost then is a lie the final
summary takes back. A live view calls a message lost only when the real
system has certainly dropped it; this module finds those: on a ZeroMQ PUB
socket each subscriber receives a publisher's messages in order and nothing
is ever sent again, so a message a subscriber never processed while it
processed a later one was dropped (past the high-water mark, or before it
joined). Everything else not processed is split by `pending`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from engines.ledger.reconcile import ClientBook, ServiceBook
from engines.nodes import records


def dropped(books: Iterable[ClientBook], services: Mapping[str, ServiceBook],
            in_order: set[str]) -> dict[str, int]:
    """Messages certainly dropped so far, per node (client and service), per link ('a->b') on
    the way and as `total`.

    `in_order`: clients whose every route delivers in order and never resends
    (zmq publish styles); other clients have none that are certain before the end.
    """
    out: dict[str, int] = {"total": 0}
    for book in books:
        if book.name not in in_order:
            continue
        sent = (np.asarray(book.status, dtype=np.uint8) & records.SENT) != 0
        for route in book.routes:
            service = services.get(route.service)
            seqs = service.effects.get(book.index) if service is not None else None
            if seqs is None or len(seqs) == 0:
                continue
            highest = int(np.max(seqs))
            got = np.zeros(len(sent), dtype=bool)
            inside = seqs[seqs < len(sent)]
            got[inside] = True
            n = int(np.count_nonzero(sent[:highest] & ~got[:highest]))
            if n:
                for key in dict.fromkeys((book.name, route.service, route.link, route.client_link)):
                    out[key] = out.get(key, 0) + n
                out["total"] += n
    return out


def pending(total: Mapping[str, Any], dropped_total: int, queued: int) -> dict[str, int]:
    """Split what is not processed yet (live `lost` + `in_doubt` less the certain drops).

    unconfirmed: sent, not yet acknowledged (the ledger's in_doubt so far);
    in_queue: ready in the brokers' queues (at most what is left);
    in_flight: the rest (sockets, prefetch, being processed, on a reconnecting client).
    """
    lost = int(total.get("lost", 0) or 0)
    doubt = int(total.get("in_doubt", 0) or 0)
    waiting = max(0, lost + doubt - dropped_total)
    unconfirmed = min(doubt, waiting)
    in_queue = min(max(0, queued), waiting - unconfirmed)
    return {"not_processed": waiting, "unconfirmed": unconfirmed, "in_queue": in_queue,
            "in_flight": waiting - unconfirmed - in_queue, "lost": dropped_total}
