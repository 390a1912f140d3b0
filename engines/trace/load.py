"""Everything a story needs from a run directory, read once (the CLI, the report and the GUI use it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.nodes import records
from engines.report.events import fault_events, read_events, run_origin
from engines.report.periods import FaultPeriod, fault_periods
from engines.topology import topofile
from engines.topology.model import Topology
from engines.topology.problems import TopologyError
from engines.trace import ids as idlists
from engines.trace import merge, story
from engines.trace.rundata import RunDirError, check_run_dir, client_indexes


@dataclass
class RunTraces:
    run_dir: Path
    topology: Topology
    trace: merge.Trace
    clients: dict[str, int]
    periods: list[FaultPeriod]
    ids: dict[str, dict[str, Any]]

    def story(self, text_id: str) -> story.Story:
        client, seq, _ = story.parse_id(text_id, self.clients)
        return story.build(self.trace, self.topology, text_id, self.clients, self.periods, self.ids,
                           status_byte(self.run_dir, client, seq))


def status_byte(run_dir: Path, client: str, seq: int) -> int | None:
    path = Path(run_dir) / "nodes" / client / "records.bin"
    try:
        rec = records.read(path)
    except (OSError, ValueError):
        return None
    return rec.status[seq] if seq < len(rec.status) else 0


def load_topology(run_dir: Path) -> Topology:
    try:
        return topofile.load(Path(run_dir) / "topology.topo.yaml").topology
    except TopologyError as exc:
        raise RunDirError(f"{run_dir}: the topology of this run does not load: {exc}") from None


def open_run(run_dir: str | Path) -> RunTraces:
    """Raises RunDirError (a clear message) for a missing, truncated or corrupt run directory."""
    path = check_run_dir(Path(run_dir))
    topology = load_topology(path)
    events = read_events(path / "events.jsonl")
    origin = run_origin(events)  # stories are told on the run clock, as the report and plots are
    events = [{**e, "t": float(e.get("t", 0.0)) - origin} for e in events]
    end = max([float(e.get("t", 0)) for e in events] + [0.0])
    periods = fault_periods(fault_events(events), run_end=end)
    return RunTraces(path, topology, merge.load(path), client_indexes(path), periods, idlists.read(path))


def ids_now(sup: Any) -> dict[str, dict[str, Any]]:
    """The counters' IDs of a run still going (a supervisor with a plan): the same sets as at the
    end, "so far" (a message in flight counts as lost or in doubt until it is processed)."""
    from engines.ledger import reconcile as ledger
    from engines.runtime.summary import client_books

    if getattr(sup, "plan", None) is None:
        return {}
    services = {s.name: ledger.read_service(s.name, sup.table.nodes[s.name].node_dir / "service.db")
                for s in sup.topology.services()}
    found = idlists.compute(client_books(sup), services, sup.run_dir)
    return {k: {"count": len(v), "ids": [f"{c}:{s}" for c, s in sorted(v)[:idlists.LIMIT]]}
            for k, v in found.items()}
