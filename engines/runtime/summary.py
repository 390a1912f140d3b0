"""The end of a run: the ledger over the run directory, the expectations' verdicts, summary.json."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from engines import transports
from engines.ledger import reconcile as ledger
from engines.ledger.counters import (
    CLIENT_RECORDED,
    NODE_RECORDED,
    NODE_RECORDED_PREFIXES,
    SERVICE_RECORDED,
)
from engines.ledger.histogram import Histogram
from engines.nodes import records
from engines.nodes.instances import database_path
from engines.runtime import insides
from engines.runtime.chain_summary import add_chain
from engines.runtime.diskfull import write_json_atomic
from engines.runtime.metrics import Collector
from engines.runtime.proctable import ProcessTable
from engines.runtime.specs import RunPlan
from engines.runtime.tracing import record_traces
from engines.topology import expectations
from engines.topology.model import Topology


class FinishedRun(Protocol):
    """What the ledger needs of a run (the supervisor offers all of it)."""

    topology: Topology
    run_dir: Path
    table: ProcessTable
    metrics: Collector | None
    plan: RunPlan | None

    @property
    def sigkilled(self) -> set[str]: ...

    def elapsed(self) -> float: ...

    def node_states(self) -> dict[str, dict[str, Any]]: ...


def client_books(sup: FinishedRun, unreadable: dict[str, str] | None = None) -> list[ledger.ClientBook]:
    """Each client's book. A client whose record file cannot be read is left out (its rows at
    the services too) and named in `unreadable`: one broken file must not cost the summary."""
    assert sup.plan is not None
    books = []
    for client in sup.topology.clients():
        path = sup.table.nodes[client.name].node_dir / "records.bin"
        peers = sup.plan.peers.get(client.name, [])
        routes = [ledger.RouteBook(r.service, r.link, r.client_link,
                                   r.peer_index if r.peer_index is not None else
                                   next((p.index for p in peers if p.link == r.client_link), 0),
                                   dead_letter=r.dead_letter, via=r.via)
                  for r in sup.plan.audience.get(client.name, [])]
        acknowledges = transports.acknowledges(client.transport.value, client.style.value,
                                               client.model_dump(mode="json"))
        flags = None
        try:
            status, masks, rec = ledger.read_client(path)
            counters, kinds, peer_replies = rec.counters, rec.errors_by_kind, rec.peer_replies
            flags = ledger.read_flags(rec)
        except Exception as exc:  # noqa: BLE001 - never started, or its file is broken
            if path.exists():
                if unreadable is not None:
                    unreadable[client.name] = f"{path.name}: {exc.strerror if isinstance(exc, OSError) else exc}"
                continue  # neither its sends nor its rows at the services can be told apart
            status, masks, counters, kinds, peer_replies = (
                np.zeros(0, dtype=np.uint8), None, {}, {}, [])
        books.append(ledger.ClientBook(
            name=client.name, index=sup.plan.clients[client.name], status=status, counters=counters,
            acknowledges=acknowledges, one_to_many=client.style.one_to_many, routes=routes,
            masks=masks, flags=flags, errors_by_kind=kinds, peer_replies=peer_replies,
            killed=client.name in sup.sigkilled))
    return books


def service_books(topology: Topology, node_dirs: Mapping[str, Path]) -> dict[str, ledger.ServiceBook]:
    """Each service node's committed rows: from its own database, or its own rows of a shared store."""
    return {s.name: ledger.read_service(s.name, database_path(Path(node_dirs[s.name]), s.store),
                                        instance=s.name if s.store else None)
            for s in topology.services()}


def build_summary(sup: FinishedRun) -> dict[str, Any]:
    """Reconcile, evaluate the expectations, write summary.json; return the summary."""
    services = service_books(sup.topology, {n: sup.table.nodes[n].node_dir for n in sup.table.nodes})
    histograms: dict[str, Histogram] = {}
    if sup.metrics is not None:
        histograms = {n.name: sup.metrics.histogram(n.name) for n in sup.topology.nodes}
    unreadable: dict[str, str] = {}
    books = client_books(sup, unreadable)
    result = ledger.compute(books, services, histograms, sup.elapsed())
    add_chain(sup, result, books, services, histograms)
    record_traces(sup.run_dir, books, services)
    rejected: dict[str, int] = {}
    if sup.metrics is not None:  # what arrived that was not the lab's: counted, never processed
        rejected = sup.metrics.rejected()
        for service in sup.topology.services():
            recorded = sup.metrics.totals(service.name)
            node = result["nodes"].setdefault(service.name, {})
            node["input_errors"] = recorded.get("errors", 0)
            _add_recorded(node, recorded)
            for key in SERVICE_RECORDED:
                node.setdefault(key, 0)
        for client in sup.topology.clients():
            node = result["nodes"].setdefault(client.name, {})
            _add_recorded(node, _extras(sup, client.name))
            for key in CLIENT_RECORDED:
                node.setdefault(key, 0)
    for service in sup.topology.services():
        if sup.topology.receives_mail(service.name):  # mails held in its Maildir(s), one per commit
            node = result["nodes"].setdefault(service.name, {})
            node["stored"] = int(node.get("processed", 0)) + int(node.get("duplicates_processed", 0))
            result["total"]["stored"] = result["total"].get("stored", 0) + node["stored"]
    _failover_counters(sup, result, books)
    scoped = {**result["links"], **result["nodes"]}
    verdicts = expectations.evaluate_all(sup.topology.expectations, result["total"], scoped)
    states = sup.node_states()
    summary = {
        "topology": sup.topology.name,
        "run_dir": str(sup.run_dir),
        **result,
        "expectations": [{"text": v.expectation.text, "passed": v.passed, "measured": v.measured,
                          "compared_to": v.compared_to, "problem": v.problem, "values": v.values}
                         for v in verdicts],
        "node_states": states,
        "client_extras": {b.name: _extras(sup, b.name) for b in books},
        "service_extras": {s.name: (sup.metrics.totals(s.name) if sup.metrics is not None else {})
                           for s in sup.topology.services()},  # transport counters over all lives
        "telemetry_rejected": rejected,
        "unreadable_records": unreadable,
    }
    clusters = getattr(sup, "clusters", None)
    if clusters is not None and clusters.handles:
        summary["clusters"] = clusters.report()
    monitor, events = getattr(sup, "internals", None), getattr(sup, "events", None)
    if monitor is not None and events is not None:  # broker internals: peaks, what survived
        summary.update(insides.report(monitor, events.since(0), sup.topology, result["links"],
                                      getattr(sup, "queue_depths", None)))
    disk = getattr(sup, "disk", None)
    if disk is not None and disk.full:
        summary["disk_full"] = disk.message()
    # whole or not at all: a full disk must never leave a truncated summary.json
    summary["summary_written"] = write_json_atomic(Path(sup.run_dir) / "summary.json", summary, disk)
    return summary


def _failover_counters(sup: FinishedRun, result: dict[str, Any], books: list[ledger.ClientBook]) -> None:
    """Reconnects and failovers of every amqp node (client extras, service stats), and the
    clusters' leader changes, into the totals and each node's counters (expectations see them)."""
    total = result["total"]
    total["reconnects"] = total["failovers"] = 0
    names = [b.name for b in books]
    for name in names:
        extras = _extras(sup, name)
        node = result["nodes"].setdefault(name, {})
        for key in ("reconnects", "failovers"):
            node[key] = extras.get(key, 0)
            total[key] += node[key]
    if sup.metrics is not None:
        for service in sup.topology.services():
            totals = sup.metrics.totals(service.name)
            node = result["nodes"].setdefault(service.name, {})
            for key in ("reconnects", "failovers"):
                node[key] = int(totals.get(key, 0))
                total[key] += node[key]
    clusters = getattr(sup, "clusters", None)
    changes = clusters.leader_changes() if clusters is not None else []
    total["leader_changes"] = len(changes)
    total["max_leaderless_s"] = max((c["leaderless_s"] for c in changes), default=0.0)


def _add_recorded(node: dict[str, Any], recorded: dict[str, int]) -> None:
    """A node's own counters (telemetry) into its scope, where the ledger has no value of that name."""
    for key, value in recorded.items():
        if key in NODE_RECORDED or key.startswith(NODE_RECORDED_PREFIXES):
            node.setdefault(key, int(value))


def _extras(sup: FinishedRun, name: str) -> dict[str, int]:
    """Driver-specific counters of a client's last life (late replies, subscribers joined...)."""
    if sup.metrics is None:
        return {}
    counters = sup.metrics.snapshot(name).get("c", {})
    return {k: v for k, v in counters.items() if k not in records.COUNTER_NAMES}
