"""Build a run's report from its run directory: plots as PNG, then one HTML page.

Reads only what the run left on disk (summary.json, events.jsonl,
metrics.csv, queues.csv, topology.topo.yaml), so `labgui report RUN_DIR`
can rebuild the report of any past run, even one whose runner was killed.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from engines.report.events import fault_events, read_events, run_origin
from engines.report.explain_html import section as explain_section
from engines.report.html import ReportData, render
from engines.report.internals import section as internals_section
from engines.report.messages import section as messages_section
from engines.report.periods import fault_periods
from engines.report.plots import Panel, render_overview, render_panel
from engines.topology import topofile
from engines.topology.expectations import evaluate_all
from engines.topology.problems import TopologyError

REPORT_NAME = "report.html"
BIN_S = 0.5  # rates are computed over half-second bins: 0.1 s samples are too noisy to read


class ReportError(Exception):
    """A run directory the report cannot be built from; the message says what is missing."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path.parent}: no {path.name}; is this a run directory?") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON (line {exc.lineno}): the run may not have ended") from None


def shifted(rows: list[dict[str, str]], origin: float) -> list[dict[str, str]]:
    """CSV rows with `t_s` moved onto the run clock."""
    if not origin:
        return rows
    return [{**row, "t_s": str(round(_num(row.get("t_s")) - origin, 3))} for row in rows]


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))

QUEUE_GAP_S = 1.5  # the depth sampler asks every 0.5 s: three missed answers are an outage


def _num(value: str | None) -> float:
    try:
        return float(value) if value not in (None, "") else float("nan")
    except ValueError:
        return float("nan")


def _rate(t: np.ndarray, cumulative: np.ndarray, end: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-second rate of a cumulative counter over BIN_S bins."""
    mask = ~np.isnan(cumulative)
    t, cumulative = t[mask], cumulative[mask]
    if len(t) < 2:
        return np.array([]), np.array([])
    edges = np.arange(0.0, max(end, t[-1]) + BIN_S, BIN_S)
    at_edges = np.interp(edges, t, cumulative, left=cumulative[0], right=cumulative[-1])
    # a restarted node's counters start again from zero: never plot a negative rate
    rates = np.clip(np.diff(at_edges), 0, None) / BIN_S
    return edges[1:], rates


def gaps_broken(t: np.ndarray, v: np.ndarray, gap_s: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Join samples into a line, but break it where no sample came for `gap_s` (an outage):
    a line drawn straight through a broker outage would invent what nobody measured."""
    if len(t) < 2:
        return t, v
    breaks = np.nonzero(np.diff(t) > gap_s)[0] + 1
    return np.insert(t, breaks, np.nan), np.insert(v, breaks, np.nan)


def build_panels(metrics: list[dict[str, str]], queues: list[dict[str, str]],
                 kinds: Mapping[str, str], end: float) -> list[Panel]:
    by_node: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in metrics:
        by_node[row["node"]].append(row)
    throughput = Panel("throughput", "Throughput", "msgs/s")
    latency = Panel("latency", "Latency percentiles", "ms")
    errors = Panel("errors", "Errors and timeouts", "per s", empty_text="no errors, no timeouts")
    palette = [f"C{i}" for i in range(10)]
    colour = {name: palette[i % len(palette)] for i, name in enumerate(kinds)}
    for node, rows in by_node.items():
        t = np.array([_num(r["t_s"]) for r in rows])

        def col(name: str, rows: list[dict[str, str]] = rows) -> np.ndarray:
            return np.array([_num(r.get(name)) for r in rows])

        solid = {"color": colour.get(node, "C0")}
        if kinds.get(node) == "client":
            throughput.lines[f"{node} sent"] = _rate(t, col("sent"), end)
            throughput.styles[f"{node} sent"] = solid
            bad = np.nan_to_num(col("errors")) + np.nan_to_num(col("timeouts"))
            if bad.any():
                errors.lines[node] = _rate(t, bad, end)
                errors.styles[node] = solid
        elif kinds.get(node) == "service":
            throughput.lines[f"{node} processed"] = _rate(t, col("processed"), end)
            throughput.styles[f"{node} processed"] = solid
        if kinds.get(node) in ("client", "service"):
            for p, dash in (("p50", "-"), ("p99", ":")):
                values = col(f"{p}_latency_ms")
                seen = ~np.isnan(values)  # intervals with no reply have no percentile
                if seen.any():
                    latency.lines[f"{node} {p}"] = gaps_broken(t[seen], values[seen])
                    latency.styles[f"{node} {p}"] = {**solid, "linestyle": dash}
    depth = Panel("queues", "Queue depth (ready messages)", "messages")
    by_queue: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for row in queues:
        by_queue[f"{row.get('broker')}/{row.get('queue')}"].append((_num(row["t_s"]), _num(row.get("ready"))))
    for name, points in by_queue.items():
        depth.lines[name] = gaps_broken(np.array([p[0] for p in points]), np.array([p[1] for p in points]),
                                        QUEUE_GAP_S)
    panels = [throughput, latency]
    if queues:
        panels.append(depth)
    panels.append(errors)
    return panels


def build_report(run_dir: str | Path) -> Path:
    """Write report.html and the PNG plots into `run_dir`; return the page's path."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: no such run directory")
    summary = _read_json(run_dir / "summary.json")
    try:
        topology = topofile.load(run_dir / "topology.topo.yaml").topology
    except TopologyError as exc:
        raise ReportError(f"{run_dir}: the topology of this run does not load: {exc}") from None
    events = read_events(run_dir / "events.jsonl")
    totals = summary.get("total", {})
    # Every file of a run keeps the event log's clock, which starts before the brokers boot; the
    # report shows the run clock (seconds since the clients started, as the scenario and the GUI
    # count), so a kill at 1.5 s reads 1.5 s everywhere.
    origin = run_origin(events)
    events = [{**e, "t": round(float(e.get("t", 0.0)) - origin, 3)} for e in events]
    metrics = shifted(_read_csv(run_dir / "metrics.csv"), origin)
    queues = shifted(_read_csv(run_dir / "queues.csv"), origin)
    duration = max([float(e.get("t", 0)) for e in events] + [float(totals.get("duration_s") or 0)])
    kinds = {n.name: n.kind.value for n in topology.nodes}
    panels = build_panels(metrics, queues, kinds, duration)
    periods = fault_periods(fault_events(events), run_end=duration)
    plots = [render_panel(p, periods, duration, run_dir / f"{p.slug}.png") for p in panels]
    overview = render_overview(panels, periods, duration, run_dir / "overview.png")
    scoped = {**summary.get("nodes", {}), **summary.get("links", {})}
    verdicts = evaluate_all(topology.expectations, totals, scoped)
    notes = [f"{name}: {why}" for name, why in (summary.get("bounds") or {}).items()]
    shown = [e for e in events if e.get("event") not in ("run-starting",)]
    for e in shown:
        e.setdefault("target", e.get("node") or e.get("link") or "")
        e.setdefault("action", e.get("event"))
        e["detail"] = ", ".join(f"{k}={v}" for k, v in e.items()
                                if k not in ("t", "run_t", "origin_t", "wall", "event", "node", "target", "action",
                                              "detail"))
    messages_html = messages_section(run_dir, topology, periods)  # traces are read on the run clock too
    explain_html, explain = explain_section(run_dir, messages_html)
    data = ReportData(
        title=topology.name, description=topology.description, duration_s=duration, totals=totals,
        per_node=summary.get("nodes", {}), per_link=summary.get("links", {}), verdicts=verdicts,
        periods=periods, events=shown, notes=notes, meta={"run directory": str(run_dir)},
        chains=summary.get("chains", {}),
        internals_html=internals_section(run_dir, summary, origin, periods, duration),
        messages_html=messages_html, explain_html=explain_html, explain=explain,
    )
    del plots  # the per-panel PNGs stay in the run dir; the page shows the overview
    return render(data, [overview], run_dir / REPORT_NAME)
