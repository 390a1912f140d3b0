"""A run directory indexed by time: `Recording.open(run_dir)`, then `at(t)` and the event marks.

Every file of a run is on the event log's clock (events.jsonl `t`, metrics.csv
`t_s`, queues.csv `t_s`, and the traces through clock.json), so that clock is
the replay's: t = 0 when the run's log opened. What a person reads is the run
clock (seconds since the clients started, as the live view, the scenario and
the report count): `origin` converts. A damaged directory (missing
topology, torn or garbage CSV, invalid JSON) raises RunDirError with the file
and the reason; a torn last line (a runner killed mid-write) is skipped.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engines.report.events import fault_events
from engines.report.periods import FaultPeriod, fault_periods
from engines.runtime.events import STATES
from engines.topology.model import Topology
from engines.trace.load import load_topology
from engines.trace.rundata import RunDirError, check_run_dir, read_json

COUNTER_COLUMNS = ("sent", "acknowledged", "replies", "retries", "timeouts", "errors", "delivered",
                   "processed", "duplicates_suppressed", "p50_latency_ms", "p99_latency_ms")
CLIENT_TOTALS = ("sent", "acknowledged", "replies", "retries", "timeouts", "errors")
SERVICE_TOTALS = ("delivered", "processed", "duplicates_suppressed")


@dataclass
class Series:
    """One node's (or link's) recorded rows: times and a column per counter (NaN where empty)."""

    t: np.ndarray
    states: list[str]
    columns: dict[str, np.ndarray]

    def index_at(self, t: float) -> int:
        """The last row at or before t, or -1."""
        return int(np.searchsorted(self.t, t, side="right")) - 1

    def values_at(self, t: float) -> dict[str, float]:
        i = self.index_at(t)
        if i < 0:
            return {}
        return {k: float(v[i]) for k, v in self.columns.items() if not np.isnan(v[i])}


@dataclass
class Moment:
    """What the lab showed at time t."""

    t: float
    states: dict[str, str]
    nodes: dict[str, dict[str, float]]  # node -> counters as recorded at t
    links: dict[str, float]  # link -> messages that crossed it so far
    queues: dict[str, float]  # 'broker/queue' -> ready messages
    totals: dict[str, float]
    events: list[dict[str, Any]] = field(default_factory=list)  # every event up to t
    final: dict[str, Any] | None = None  # the summary's totals, once t reaches the end


def _float(text: str | None) -> float:
    if text is None or text == "":
        return float("nan")
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RunDirError(f"{path}: cannot be read as CSV ({exc}); the file is corrupt") from None
    good = []
    for i, row in enumerate(rows):
        t = _float(row.get("t_s"))
        if np.isnan(t):
            if i == len(rows) - 1:
                continue  # a torn last line
            raise RunDirError(f"{path}: line {i + 2} has no time (t_s={row.get('t_s')!r}); the file is corrupt")
        good.append(row)
    return good


def read_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{path}: cannot be read ({exc}); the file is corrupt") from None
    events = []
    for i, line in enumerate(lines):
        try:
            event = json.loads(line)
            float(event["t"])
        except (ValueError, KeyError, TypeError):
            if i == len(lines) - 1:
                continue  # a runner killed mid-write leaves a torn last line
            raise RunDirError(f"{path}: line {i + 1} is not an event; the file is corrupt") from None
        events.append(event)
    return events


class Recording:
    """Read once, then ask for any t."""

    def __init__(self, run_dir: Path, topology: Topology, events: list[dict[str, Any]],
                 metrics: list[dict[str, str]], queues: list[dict[str, str]],
                 summary: dict[str, Any] | None) -> None:
        self.run_dir, self.topology, self.events, self.summary = run_dir, topology, events, summary
        self.series: dict[str, Series] = {}
        grouped: dict[str, list[dict[str, str]]] = {}
        for row in metrics:
            grouped.setdefault(str(row.get("node", "")), []).append(row)
        for name, rows in grouped.items():
            rows.sort(key=lambda r: _float(r["t_s"]))
            self.series[name] = Series(np.array([_float(r["t_s"]) for r in rows]),
                                       [str(r.get("state", "")) for r in rows],
                                       {c: np.array([_float(r.get(c)) for r in rows]) for c in COUNTER_COLUMNS})
        qgroups: dict[str, list[tuple[float, float]]] = {}
        for row in queues:
            qgroups.setdefault(f"{row.get('broker')}/{row.get('queue')}", []).append(
                (_float(row["t_s"]), _float(row.get("ready"))))
        self.queues = {k: (np.array([a for a, _ in sorted(v)]), np.array([b for _, b in sorted(v)]))
                       for k, v in qgroups.items()}
        times = [float(e["t"]) for e in events] + [float(s.t[-1]) for s in self.series.values() if len(s.t)]
        self.start = min([float(s.t[0]) for s in self.series.values() if len(s.t)] + [0.0])
        self.end = max(times + [0.0])
        started = next((e for e in events if e.get("event") == "run-started"), None)
        # the run clock's zero on this clock: the clients' start (origin_t is exact; the event's own
        # `t` comes a little after it, once the clients were started)
        self.origin = float(started.get("origin_t", started["t"])) if started else self.start
        self.links = [link.key for link in topology.links]
        self.clients = [c.name for c in topology.clients()]
        self.services = [s.name for s in topology.services()]

    @classmethod
    def open(cls, run_dir: str | Path) -> Recording:
        """Raises RunDirError with a clear message for a missing, truncated or corrupt run directory."""
        path = check_run_dir(Path(run_dir))
        topology = load_topology(path)
        summary = read_json(path / "summary.json", "the run's summary") if (path / "summary.json").exists() else None
        if summary is not None and not isinstance(summary, dict):
            raise RunDirError(f"{path / 'summary.json'}: not a summary (a JSON object was expected)")
        return cls(path, topology, read_events(path / "events.jsonl"), _read_csv(path / "metrics.csv"),
                   _read_csv(path / "queues.csv"), summary)

    # -- a moment -------------------------------------------------------------------------------
    def at(self, t: float) -> Moment:
        states: dict[str, str] = {n.name: "idle" for n in self.topology.nodes}
        events = [e for e in self.events if float(e["t"]) <= t]
        for e in events:
            if e.get("event") in STATES and e.get("node") in states:
                states[str(e["node"])] = str(e["event"])
        nodes = {name: self.series[name].values_at(t) for name in self.clients + self.services
                 if name in self.series}
        links = {key: self.series[key].values_at(t).get("delivered", 0.0) for key in self.links
                 if key in self.series}
        queues = {}
        for name, (qt, qv) in self.queues.items():
            i = int(np.searchsorted(qt, t, side="right")) - 1
            if i >= 0:
                queues[name] = float(qv[i])
        totals: dict[str, float] = {}
        for name, values in nodes.items():
            keys = CLIENT_TOTALS if name in self.clients else SERVICE_TOTALS
            for k in keys:
                if k in values:
                    totals[k] = totals.get(k, 0.0) + values[k]
        final = None
        if self.summary is not None and t >= self.end:
            final = dict(self.summary.get("total", {}))
        return Moment(t, states, nodes, links, queues, totals, events, final)

    def periods(self, t: float) -> list[FaultPeriod]:
        return fault_periods(fault_events([e for e in self.events if float(e["t"]) <= t]), t)

    # -- where to jump ---------------------------------------------------------------------------
    def marks(self, faults_only: bool = False) -> list[float]:
        """Times of the events, or only of the faults' beginnings and ends (kill, pause, cut...)."""
        if faults_only:
            out = set()
            for p in self.periods(self.end):
                out.add(p.start)
                if not p.open_ended:
                    out.add(p.end)
            return sorted(out)
        return sorted({float(e["t"]) for e in self.events})

    def next_mark(self, t: float, faults_only: bool = False) -> float | None:
        return next((m for m in self.marks(faults_only) if m > t + 1e-6), None)

    def previous_mark(self, t: float, faults_only: bool = False) -> float | None:
        return next((m for m in reversed(self.marks(faults_only)) if m < t - 1e-6), None)

    def sample_times(self) -> np.ndarray:
        """Every time some node's row was recorded (the replay's frames)."""
        parts: Iterable[np.ndarray] = [s.t for s in self.series.values()]
        allt = np.unique(np.concatenate(list(parts))) if self.series else np.zeros(0)
        return allt
