"""The chain part of a run's end (its drain and its summary): hop senders reconciled per link, and the end-to-end table.

Called by engines.runtime.summary when the plan has hop senders (a service
with outgoing links). The run's totals stay the clients' own; each hop's link
gets the counters of its hop senders, each downstream service the deliveries
they made, each origin client its end-to-end values, and `chains` holds the
table in hop order (engines.ledger.chain).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from engines import transports
from engines.ledger import chain
from engines.ledger import reconcile as ledger
from engines.ledger.histogram import Histogram

SERVICE_SIDE = ledger.SERVICE_SIDE
RESILIENCE = ("short_circuited", "rejected_bulkhead", "calls_in_flight_peak", "breaker_open",
              "breaker_half_open", "breaker_closed")


def hop_books(sup: Any) -> list[chain.ChainHop]:
    assert sup.plan is not None
    out: list[chain.ChainHop] = []
    for service, hops in sup.plan.hops.items():
        node_dir = sup.table.nodes[service].node_dir
        for hop in hops:
            name, index = str(hop["name"]), int(hop["index"])
            path = node_dir / f"hop-{index}.rec"
            if path.exists():
                status, masks, rec = ledger.read_client(path)
                counters, kinds = rec.counters, rec.errors_by_kind
            else:
                status, masks, counters, kinds = np.zeros(0, dtype=np.uint8), None, {}, {}
            routes = [ledger.RouteBook(r.service, r.link, r.client_link, r.peer_index or 0)
                      for r in sup.plan.audience.get(name, [])]
            acknowledges = transports.acknowledges(str(hop["transport"]), str(hop["style"]),
                                                   {"confirms": True})
            book = ledger.ClientBook(name=name, index=index, status=status, counters=counters,
                                     acknowledges=acknowledges,
                                     one_to_many=hop["style"] == "publish-subscribe", routes=routes,
                                     masks=masks, errors_by_kind=kinds,
                                     killed=service in sup.sigkilled)
            out.append(chain.ChainHop(book, str(hop["link"]), service, str(hop["origin"]),
                                      [int(u) for u in hop["upstream"]]))
    return out


def add_chain(sup: Any, result: dict[str, Any], clients: list[ledger.ClientBook],
              services: Mapping[str, ledger.ServiceBook], histograms: Mapping[str, Histogram]) -> None:
    """Merge the hops' ledger into `result` (links, downstream services, origins) and add `chains`."""
    hops = hop_books(sup)
    if not hops:
        return
    books = [h.book for h in hops]
    per_hop = ledger.compute(books, services, {}, sup.elapsed())
    hop_names = {b.name for b in books}
    if per_hop["bounds"]:  # a SIGKILLed service's hop senders: their sender-side counts are lower bounds
        bounds = result["bounds"] or {k: v for k, v in per_hop["bounds"].items() if k != "clients"}
        bounds["clients"] = [*result["bounds"].get("clients", []), *per_hop["bounds"]["clients"]]
        result["bounds"] = bounds
    for key, values in per_hop["links"].items():
        result["links"][key] = {k: v for k, v in values.items() if k != "errors_by_kind"}
    for name, values in per_hop["nodes"].items():
        if name in hop_names:
            continue
        node = result["nodes"].setdefault(name, {})
        for key in (*SERVICE_SIDE, "lost", "in_doubt"):
            node[key] = int(node.get(key, 0)) + int(values.get(key, 0))
    if sup.metrics is not None:  # resilience counters, per link, from the calling services' telemetry
        for service in sup.plan.hops if sup.plan else {}:
            for key, value in sup.metrics.totals(service).items():
                counter, sep, link = key.partition("|")
                if sep and counter in RESILIENCE:
                    result["links"].setdefault(link, {})[counter] = int(value)
                    node = result["nodes"].setdefault(service, {})
                    node[counter] = int(node.get(counter, 0)) + int(value)
    chains = chain.compute(clients, hops, services)
    for client, table in chains.items():
        node = result["nodes"].setdefault(client, {})
        for key in ("e2e_reached", "e2e_lost", "e2e_duplicates"):
            node[key] = table[key]
        for stage in table["stages"]:
            link = result["links"].setdefault(stage["link"], {})
            for key in ("hop_lost", "orphans"):
                link[key] = int(link.get(key, 0)) + int(stage[key])
            link["hop_reached"] = int(link.get("hop_reached", 0)) + int(stage["reached"])
    for hop in hops:  # a hop's link has every chain counter, zero when nothing happened
        link = result["links"].setdefault(hop.link, {})
        for key in ("hop_lost", "orphans", "hop_reached", *RESILIENCE):
            link.setdefault(key, 0)
    total = result["total"]
    for key in ("hop_reached", "hop_lost", "orphans", *RESILIENCE):
        total[key] = sum(int(result["links"][h].get(key, 0)) for h in {hop.link for hop in hops})
    for key in ("e2e_reached", "e2e_lost", "e2e_duplicates"):
        total[key] = sum(int(table[key]) for table in chains.values())
    result["chains"] = chains


def hops_drained(metrics: Any, plan: Any) -> tuple[bool, int]:
    """Whether every hop sender's targets have what its service took in, and how many deliveries
    they have (live telemetry): the supervisor's drain waits for a chain hop after hop."""
    done, total = True, 0
    for service, hops in plan.hops.items():
        taken = metrics.by_client(service)
        for hop in hops:
            index = int(hop["index"])
            want = sum(taken[u] for u in hop["upstream"] if u < len(taken))
            for route in plan.audience.get(str(hop["name"]), []):
                counts = metrics.by_client(route.service)
                got = counts[index] if index < len(counts) else 0
                total += got
                done = done and got >= want
    return done, total
