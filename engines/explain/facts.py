"""Read a run directory (or a live run's pieces) into RunFacts: settings, faults on the run clock, IDs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engines.explain.model import Fault, RunFacts
from engines.topology import topofile
from engines.topology.model import Topology
from engines.topology.problems import TopologyError
from engines.trace import ids as idlists
from engines.trace.rundata import RunDirError, check_run_dir, read_json

_CRASH = re.compile(r"configured crash: ([^\n]*)")
_AFTER_COMMIT = re.compile(r"message (\d+) of this life, after its commit")
_LINK_EVENTS = ("cut", "heal", "lossy", "delay")


def settings(topology: Topology) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Node and link settings with their defaults, as plain data."""
    nodes = {n.name: n.model_dump(mode="json") for n in topology.nodes}
    links = {}
    for link in topology.links:
        data = link.model_dump(mode="json", by_alias=True)
        links[link.name or f"{link.source}->{link.target}"] = data
    return nodes, links


def _origin(events: Iterable[Mapping[str, Any]]) -> float:
    for e in events:
        if e.get("event") == "run-started" and e.get("origin_t") is not None:
            return float(e["origin_t"])
    return 0.0


def crash_detail(log_tail: str, reason: str) -> str:
    """The node's own words on a configured crash, short: 'after committing message 200, before its
    reply or ack' (the 200th message of that life); else its log line without the exit code."""
    found = _CRASH.search(log_tail)
    if not found:
        return reason
    text = re.sub(r"\s*\(exit \d+\)\s*$", "", found.group(1).strip())
    point = _AFTER_COMMIT.search(text)
    return f"after committing message {point.group(1)}, before its reply or ack" if point else text


def faults(events: Sequence[Mapping[str, Any]]) -> list[Fault]:
    """The run's faults and state changes, each once, on the run clock."""
    origin = _origin(events)
    out: list[Fault] = []
    down: dict[str, str] = {}  # node -> why it is not running (killed, crashed, paused)
    for e in events:
        kind = str(e.get("event", ""))
        t = float(e["run_t"]) if e.get("run_t") is not None else float(e.get("t", 0.0)) - origin
        node, link = e.get("node"), e.get("link")
        if kind == "scenario" and node and e.get("action") in ("pause", "resume"):
            out.append(Fault(t, "paused" if e["action"] == "pause" else "resumed", str(node)))
            if e["action"] == "pause":
                down[str(node)] = "paused"
            else:
                down.pop(str(node), None)
        elif kind in ("killed", "crashed") and node:
            detail = ""
            if kind == "crashed":
                detail = crash_detail(str(e.get("log_tail", "")), str(e.get("reason", "")))
            out.append(Fault(t, kind, str(node), detail))
            down[str(node)] = kind
        elif kind == "ready" and node and down.get(str(node)) in ("killed", "crashed"):
            out.append(Fault(t, "up again", str(node)))
            down.pop(str(node), None)
        elif kind == "scenario" and node and e.get("action") == "restart":
            out.append(Fault(t, "restarted", str(node)))
        elif kind in _LINK_EVENTS and link:
            detail = (f"loss {e.get('loss')}" if kind == "lossy" else
                      f"{e.get('latency_ms')} ms" if kind == "delay" else "")
            out.append(Fault(t, kind, str(link), detail))
        elif kind == "joined" and node:
            out.append(Fault(t, "joined", str(node)))
        elif kind == "breaker" and node:
            out.append(Fault(t, f"breaker {e.get('state')}", str(node), str(e.get("link") or "")))
        elif kind == "gave-up" and node:
            out.append(Fault(t, "gave up restarting", str(node), str(e.get("reason") or "")))
        elif kind in ("reconnect", "failover") and node:
            out.append(Fault(t, kind, str(node)))
    return out


def read_events(path: Path) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    if not path.exists():
        return events
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a runner killed mid-write leaves a torn last line
    return events


def load(run_dir: str | Path) -> RunFacts:
    """A finished run directory's facts; RunDirError says which file is missing or bad."""
    run_dir = check_run_dir(Path(run_dir))
    summary = read_json(run_dir / "summary.json", "the ledger's summary")
    try:
        topology = topofile.load(run_dir / "topology.topo.yaml").topology
    except TopologyError as exc:
        raise RunDirError(f"{run_dir}: the topology of this run does not load: {exc}") from None
    nodes, links = settings(topology)
    return RunFacts(nodes=nodes, links=links, summary=summary,
                    faults=faults(read_events(run_dir / "events.jsonl")), ids=idlists.read(run_dir))


def so_far(ledger: Mapping[str, Any]) -> dict[str, Any]:
    """The live ledger as the live view counts it: a message sent and not processed yet is on
    its way, not lost, so `lost` is only what the real system certainly dropped (the ledger's
    `dropped`, engines.ledger.live) and `in_doubt` (not answered yet) is nothing to explain
    until the end. The live ledger's own `lost` counts everything still in flight."""
    dropped = ledger.get("dropped") or {}
    out: dict[str, Any] = dict(ledger)

    def certain(counts: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
        counts = {k: v for k, v in (counts or {}).items() if k != "in_doubt"}
        if "lost" in counts:
            counts["lost"] = int(dropped.get(name, 0))
        return counts

    out["total"] = certain(ledger.get("total"), "total")
    for scope in ("nodes", "links"):
        out[scope] = {name: certain(counts, str(name)) for name, counts in (ledger.get(scope) or {}).items()}
    return out


def live(topology: Topology, ledger: Mapping[str, Any], events: Sequence[Mapping[str, Any]],
         ids: Mapping[str, Mapping[str, Any]] | None = None, final: bool = False) -> RunFacts:
    """A run's facts from memory: the live ledger so far (labgui's LiveLedger.latest, counted
    as the live view counts it: `so_far`; texts say "so far") or, with final=True, the finished
    run's summary; and the events so far."""
    nodes, links = settings(topology)
    return RunFacts(nodes=nodes, links=links, summary=ledger if final else so_far(ledger),
                    faults=faults(events), ids=ids or {}, final=final)
