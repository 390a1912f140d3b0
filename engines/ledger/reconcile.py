"""The ledger: reconcile what clients sent and were told with what services committed.

Sources (never estimates): each client's record file (one status byte per
sequence number: SENT, ACKED...; counters such as retries and timeouts) and
each service's SQLite database (one `authorisations` row per business effect
applied, one `refused_duplicates` row per duplicate an idempotent consumer
refused through PROCESSED_MESSAGES). A message ID is (client, sequence).

For one client c and one service S that c's messages can reach (a *route*),
over c's sequence numbers, let E[seq] be the authorisation rows for that ID
at S and D[seq] the refused duplicates:

    delivered               sum(E) + sum(D): every delivery that reached a commit
                            (a delivery lost in a crash before its commit left no trace)
    processed               #{seq : E > 0}
    duplicates_processed    sum(E) - processed: effects applied more than once
    duplicates_suppressed   sum(D)
    duplicates_delivered    delivered - #{seq : E + D > 0}
    redelivered             rows (either table) whose delivery carried the redelivered flag
    hostile                 rows whose ID the client never sent (a forged message on a
                            service's port): counted apart, never as a delivery

One-to-one styles (request-response, async, notification: each message is for
one service) count per client over all its routes: an ID processed at two
services (a retry that went to the other instance) is one processed ID and
one duplicate effect. With P = processed anywhere, A = acknowledged IDs when
the client's transport acknowledges (reply, HTTP 2xx, confirm), else the sent IDs:

    lost       #{A and not P}
    in_doubt   #{sent and not acknowledged and not P} (0 where nothing acknowledges)

One-to-many styles (publish-subscribe, publish-async-responses: each message
is for every subscriber) count per route, with A the IDs that subscriber
acknowledged (replied to within the window) or the broker confirmed, or, for
PUB/SUB, the confirmed IDs (sent IDs without confirms), and sum the routes.

IDs the broker returned to the client (mandatory, unroutable) are neither lost
nor in doubt: the client was told; they are counted as `unroutable`. A route
to a service that consumes dead letters (RabbitMQ's dead-letter queue) counts
what reached it there, not as the client's processed IDs (no business effect);
for one-to-one styles an ID that reached it is not lost; for one-to-many ones
the subscriber that rejected it still counts it lost on its own route. Client-side counters (sent, acknowledged, attempts,
retries, replies, confirms, nacks, timeouts, errors) come from the record
files. Totals sum the clients; a service's scope sums its routes; a link's
scope is its route (a client's link to a broker carries the client's values).
Latency percentiles come from HdrHistograms (within 1 percent, or 1 us):
round trips for clients that hear back, delivery latency
at the services for those that do not. throughput = processed / duration_s.

Exactness: services commit before they acknowledge, so their rows are exact
whatever was killed. A client writes its status bytes into a memory-mapped
file before each send and on each answer, so a SIGKILLed client loses at
most the answer it was recording: its client-side counters and `lost` are
then lower bounds and `in_doubt` an upper bound, and the summary says so.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from engines.ledger.counters import CHAIN_SIDE, CLIENT_SIDE
from engines.ledger.histogram import Histogram, merged
from engines.nodes import records
from engines.nodes.instances import has_instances
from engines.transports.wire import split_id

SERVICE_SIDE = ("delivered", "processed", "duplicates_delivered", "duplicates_processed",
                "duplicates_suppressed", "redelivered")
RECONCILED = SERVICE_SIDE + ("lost", "in_doubt")


@dataclass
class RouteBook:
    service: str
    link: str  # the link into the service
    client_link: str  # the client's own link
    peer_index: int = 0
    dead_letter: bool = False  # consumes the dead letters of the client's queues
    via: str | None = None  # a mail reader: the mail service whose mailbox it reads


@dataclass
class ClientBook:
    """A client's records as the ledger needs them (built from its record file, or by a test)."""

    name: str
    index: int
    status: np.ndarray  # uint8 per sequence
    counters: Mapping[str, int]
    acknowledges: bool
    one_to_many: bool
    routes: list[RouteBook]
    masks: np.ndarray | None = None  # uint32 per sequence: peers that replied (publish-async)
    flags: np.ndarray | None = None  # uint8 per sequence: records.RETURNED, records.CONFIRMED
    errors_by_kind: Mapping[str, int] = field(default_factory=dict)
    peer_replies: list[int] = field(default_factory=list)  # replies per peer index
    killed: bool = False


@dataclass
class ServiceBook:
    """A service's committed rows: sequence numbers per client index."""

    name: str
    effects: dict[int, np.ndarray] = field(default_factory=dict)
    refused: dict[int, np.ndarray] = field(default_factory=dict)
    redelivered: dict[int, int] = field(default_factory=dict)


# -- reading the sources --------------------------------------------------------------------

def read_client(path: Path) -> tuple[np.ndarray, np.ndarray | None, records.RecordFile]:
    rec = records.read(path)
    status = np.frombuffer(rec.status, dtype=np.uint8)
    masks = np.frombuffer(rec.masks, dtype=np.uint32) if rec.masks is not None else None
    return status, masks, rec


def read_flags(rec: records.RecordFile) -> np.ndarray | None:
    return np.frombuffer(rec.flags, dtype=np.uint8) if rec.flags is not None else None


def read_service(name: str, db_path: Path, instance: str | None = None) -> ServiceBook:
    """A service's rows; with `instance`, only the rows that instance of a shared store wrote."""
    book = ServiceBook(name)
    if not db_path.exists():
        return book
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        shared = instance is not None and has_instances(db)
        where, args = (" WHERE instance = ?", (instance,)) if shared else ("", ())
        for table, into in (("authorisations", book.effects), ("refused_duplicates", book.refused)):
            rows = np.array(db.execute(f"SELECT message_id, redelivered FROM {table}{where}", args).fetchall(),
                            dtype=np.int64).reshape(-1, 2)
            ids: Any = rows[:, 0]  # split_id works on arrays as on ints
            clients, seqs = split_id(ids)
            clients, seqs = cast(Any, clients), cast(Any, seqs)
            for ci in np.unique(clients):
                of_client = clients == ci
                into[int(ci)] = np.asarray(seqs[of_client], dtype=np.int64)
                book.redelivered[int(ci)] = book.redelivered.get(int(ci), 0) + int(rows[of_client, 1].sum())
    finally:
        db.close()
    return book


# -- reconciling ----------------------------------------------------------------------------

def _counts(seqs: np.ndarray | None, sent: np.ndarray) -> tuple[np.ndarray, int]:
    """Rows per sequence the client sent, and how many rows name a sequence it never sent.

    Memory stays bounded by what was sent: a row for sequence 4294967295 is one
    hostile row, not a reason to allocate four billion counters."""
    n = len(sent)
    if seqs is None or len(seqs) == 0:
        return np.zeros(n, dtype=np.int64), 0
    in_range = (seqs >= 0) & (seqs < n)
    counts = np.bincount(seqs[in_range], minlength=n).astype(np.int64)
    never_sent = ~sent & (counts > 0)
    hostile = int(np.count_nonzero(~in_range)) + int(counts[never_sent].sum())
    counts[never_sent] = 0
    return counts, hostile


def _route_values(client: ClientBook, service: ServiceBook,
                  sent: np.ndarray) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    e, hostile_e = _counts(service.effects.get(client.index), sent)
    d, hostile_d = _counts(service.refused.get(client.index), sent)
    processed = int(np.count_nonzero(e))
    delivered = int(e.sum() + d.sum())
    values = {
        "hostile": hostile_e + hostile_d,
        "delivered": delivered, "processed": processed,
        "duplicates_processed": int(e.sum()) - processed,
        "duplicates_suppressed": int(d.sum()),
        "duplicates_delivered": delivered - int(np.count_nonzero(e + d)),
        "redelivered": int(service.redelivered.get(client.index, 0)),
    }
    return values, e, d


def _add(into: dict[str, float], values: Mapping[str, float], keys: tuple[str, ...] | None = None) -> None:
    for key in keys or tuple(values):
        if key in values:
            into[key] = into.get(key, 0) + values[key]


def _latency(into: dict[str, Any], hist: Histogram) -> None:
    for q, key in ((50, "p50_latency_ms"), (90, "p90_latency_ms"), (99, "p99_latency_ms")):
        value = hist.percentile_ms(q)
        into[key] = None if value is None else round(value, 3)
    into["max_latency_ms"] = round(hist.max_ms, 3) if hist.total else None


def client_side(book: ClientBook) -> dict[str, int]:
    c = book.counters
    out = {key: int(c.get(key, 0)) for key in CLIENT_SIDE if key != "sent"}
    out["sent"] = int(np.count_nonzero(book.status & records.SENT))
    out["acknowledged"] = int(np.count_nonzero(book.status & records.ACKED))
    out["resent_in_doubt"] = int(np.count_nonzero(book.status & records.IN_DOUBT))
    for kind in records.ERROR_KINDS:  # each kind its own counter, so expectations can name it
        out[error_counter(kind)] = int(book.errors_by_kind.get(kind, 0))
    return out


def error_counter(kind: str) -> str:
    """The counter of one error kind: 'gave-up' -> 'errors_gave_up'."""
    return "errors_" + kind.replace("-", "_")


def _flag(book: ClientBook, n: int, bit: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    if book.flags is not None:
        m = min(n, len(book.flags))
        out[:m] = (book.flags[:m] & bit) != 0
    return out


def _reader_values(book: ClientBook, route: RouteBook, services: Mapping[str, ServiceBook],
                   sent: np.ndarray) -> dict[str, int]:
    """A mail reader's account of one client's mail: what it read against what was stored.

    A reader is a second stage, not another recipient: its counts never add to
    the client's. lost = stored at the mail service and never processed by the
    reader (at the end of the run: unread, or read and not committed).
    """
    values, e, _ = _route_values(book, services.get(route.service, ServiceBook(route.service)), sent)
    _, stored, _ = _route_values(book, services.get(route.via or "", ServiceBook("")), sent)
    values["read"] = values["delivered"]
    values["lost"] = int(np.count_nonzero((stored > 0) & (e == 0)))
    values["in_doubt"] = 0
    return values


def compute(clients: list[ClientBook], services: Mapping[str, ServiceBook],
            histograms: Mapping[str, Histogram] | None = None, duration_s: float = 0.0) -> dict[str, Any]:
    """Every counter of engines.ledger.counters, in total, per node and per link."""
    histograms = histograms or {}
    total: dict[str, Any] = {}
    nodes: dict[str, dict[str, Any]] = {}
    links: dict[str, dict[str, Any]] = {}
    latency_sources: dict[str, Histogram] = {}  # whose latencies make the total's percentiles
    hostile = 0  # service rows naming an ID no client sent: forged, never counted as deliveries
    for book in clients:
        n = len(book.status)  # what the client sent bounds the ledger, whatever a service holds
        status = book.status
        sent = (status & records.SENT) != 0
        acked = (status & records.ACKED) != 0
        # Returned (mandatory, unroutable): the client was told; neither lost nor in doubt.
        returned = _flag(book, n, records.RETURNED)
        # Nacked and given up (a full queue with reject-publish): the broker said no; not in doubt.
        refused = (status & (records.NACKED | records.GAVE_UP)) == (records.NACKED | records.GAVE_UP)
        confirmed = _flag(book, n, records.CONFIRMED)
        mine = client_side(book)
        group: dict[str, float] = {}
        any_processed = np.zeros(n, dtype=bool)
        any_delivered = np.zeros(n, dtype=bool)
        dead_handled = np.zeros(n, dtype=bool)  # reached a dead-letter consumer's commit
        for route in book.routes:
            if route.via is not None:
                values = _reader_values(book, route, services, sent)
                total["read"] = total.get("read", 0) + values["read"]
                _add(links.setdefault(route.link, {}), values)
                _add(nodes.setdefault(route.service, {}), values)
                continue
            service = services.get(route.service, ServiceBook(route.service))
            values, e, d = _route_values(book, service, sent)
            hostile += values["hostile"]
            scoped: dict[str, Any] = dict(values)
            processed_here = e > 0
            if book.one_to_many:
                open_here = ~processed_here & ~returned
                if route.dead_letter:  # only what was dead-lettered is for it: nothing to lose
                    scoped["lost"] = scoped["in_doubt"] = 0
                elif book.acknowledges and book.masks is not None:
                    masks = np.zeros(n, dtype=np.uint32)
                    masks[:min(n, len(book.masks))] = book.masks[:n]
                    answered = (masks >> np.uint32(route.peer_index)) & 1 == 1
                    promised = answered | confirmed  # a broker's confirm: its queues have it
                    scoped["lost"] = int(np.count_nonzero(promised & open_here))
                    scoped["in_doubt"] = int(np.count_nonzero(sent & ~promised & open_here))
                    scoped["acknowledged"] = int(np.count_nonzero(answered))
                elif book.acknowledges:  # publisher confirms, as for notification
                    scoped["lost"] = int(np.count_nonzero(acked & open_here))
                    scoped["in_doubt"] = int(np.count_nonzero(sent & ~acked & open_here & ~refused))
                else:
                    scoped["lost"] = int(np.count_nonzero(sent & open_here))
                    scoped["in_doubt"] = 0
                scoped["sent"] = mine["sent"]
                _add(group, scoped, RECONCILED)
            elif route.dead_letter:  # not the business effect, but not lost either
                dead_handled |= (e + d) > 0
            else:
                _add(group, values, SERVICE_SIDE)
                any_processed |= processed_here
                any_delivered |= (e + d) > 0
            if route.peer_index < len(book.peer_replies):
                scoped["replies"] = int(book.peer_replies[route.peer_index])
            _add(links.setdefault(route.link, {}), scoped)
            _add(nodes.setdefault(route.service, {}), scoped)
        if not book.one_to_many:
            effects = group.get("processed", 0) + group.get("duplicates_processed", 0)
            processed = int(np.count_nonzero(any_processed))
            group["processed"] = processed
            group["duplicates_processed"] = int(effects) - processed
            group["duplicates_delivered"] = int(group.get("delivered", 0)) - int(np.count_nonzero(any_delivered))
            promised = acked if book.acknowledges else sent
            open_ids = ~any_processed & ~dead_handled & ~returned
            group["lost"] = int(np.count_nonzero(promised & open_ids))
            group["in_doubt"] = int(np.count_nonzero(sent & ~acked & open_ids & ~refused)) \
                if book.acknowledges else 0
            direct = [r for r in book.routes if r.via is None]
            if len(direct) == 1:  # the only route carries the client's whole account
                route = direct[0]
                for key in ("lost", "in_doubt"):
                    links[route.link][key] = links[route.link].get(key, 0) + group[key]
                    nodes[route.service][key] = nodes[route.service].get(key, 0) + group[key]
        mine["unroutable"] = int(np.count_nonzero(returned & sent))
        mine["nacked"] = int(np.count_nonzero(refused & sent & ~acked))
        node: dict[str, Any] = {**mine, **{k: int(v) for k, v in group.items()}}
        node["errors_by_kind"] = dict(book.errors_by_kind)
        hist = histograms.get(book.name, Histogram())
        if book.acknowledges:  # round trips as the client saw them
            latency_sources[book.name] = hist
        else:  # nothing comes back: delivery latency at the services
            latency_sources.update({r.service: histograms[r.service] for r in book.routes
                                    if r.service in histograms})
        _latency(node, hist)
        nodes[book.name] = node
        for route in book.routes:
            link = links[route.link]
            if route.client_link != route.link:  # via a broker: the client's link carries its account
                links[route.client_link] = {k: v for k, v in node.items() if k != "errors_by_kind"}
            elif book.one_to_many:  # every subscriber's link saw every message
                for key, value in mine.items():
                    link.setdefault(key, value)
            elif len([r for r in book.routes if r.via is None]) == 1 and route.via is None:
                link.update(mine)
        _add(total, mine)
        _add(total, group, RECONCILED)
    total["hostile"] = hostile
    for name, node in nodes.items():
        if name in services and name in histograms:
            _latency(node, histograms[name])
        if name in services:
            node.setdefault("hostile", 0)
        for key in SERVICE_SIDE:
            node.setdefault(key, 0)
    for key in ("sent", "acknowledged", "attempts", "retries", "replies", "confirms", "nacks",
                "timeouts", "errors", "unroutable", "nacked", "late_replies", "duplicate_replies",
                "gave_up", "resent_in_doubt", "read", "stored",
                *(error_counter(k) for k in records.ERROR_KINDS), *RECONCILED, *CHAIN_SIDE):
        total.setdefault(key, 0)  # chain counters: summed by engines.runtime.chain_summary
    _latency(total, merged(latency_sources.values()))
    total["duration_s"] = round(duration_s, 3)
    total["throughput"] = round(total["processed"] / duration_s, 1) if duration_s > 0 else 0.0
    for node in nodes.values():
        node["duration_s"] = total["duration_s"]
        node["throughput"] = round(node.get("processed", 0) / duration_s, 1) if duration_s > 0 else 0.0
    killed = [b.name for b in clients if b.killed]
    bounds = {}
    if killed:
        bounds = {"clients": killed, "lower_bounds": [*CLIENT_SIDE, "lost"], "upper_bounds": ["in_doubt"],
                  "why": "a SIGKILLed client loses the answer it was recording at that instant"}
    return {"total": total, "nodes": nodes, "links": links, "bounds": bounds}
