"""Runs side by side: counters in columns, plots overlaid on a shared time axis, differences called out.

Each run's time axis starts when its clients started (the `run-started`
event), so a managed broker's boot does not shift one run against another.
Structure: the runs are "the same design" when their nodes (name, kind,
style) and their client->service routes are equal; transports may differ
(that is what `--transports` compares), and the page says which differ.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engines.replay.recording import Recording
from engines.trace.rundata import RunDirError

COUNTERS = ("sent", "acknowledged", "delivered", "processed", "lost", "in_doubt", "duplicates_delivered",
            "duplicates_suppressed", "duplicates_processed", "redelivered", "timeouts", "errors", "retries",
            "p50_latency_ms", "p99_latency_ms", "throughput", "duration_s")
BIN_S = 0.5


@dataclass
class RunSide:
    label: str
    rec: Recording
    totals: dict[str, Any]
    origin: float  # event-log time when the clients started

    def structure(self) -> dict[str, Any]:
        topo = self.rec.topology
        nodes = sorted((n.name, n.kind.value, getattr(getattr(n, "style", None), "value", "")) for n in topo.nodes
                       if n.kind.value != "broker")
        routes = []
        for c in topo.clients():
            for link in topo.links_from(c.name):
                target = topo.node(link.target)
                hops = [link.target] if target.kind.value == "service" else [
                    x.target for x in topo.links_from(link.target)]
                routes += [(c.name, h) for h in hops]
        transports = sorted({c.transport.value for c in topo.clients()})
        return {"nodes": nodes, "routes": sorted(routes), "transports": transports,
                "brokers": sorted(b.name for b in topo.brokers())}

    def processed_rate(self) -> tuple[np.ndarray, np.ndarray]:
        """Messages processed per second over all services, in BIN_S bins, on the clients' clock."""
        series = [self.rec.series[s] for s in self.rec.services if s in self.rec.series]
        end = self.rec.end - self.origin
        edges = np.arange(0.0, max(end, BIN_S) + BIN_S, BIN_S)
        total = np.zeros(len(edges))
        for s in series:
            t = s.t - self.origin
            col = np.nan_to_num(s.columns["processed"])
            idx = np.searchsorted(t, edges, side="right") - 1
            total += np.where(idx >= 0, col[np.maximum(idx, 0)], 0.0)
        return edges[1:], np.diff(total) / BIN_S

    def latency(self) -> tuple[np.ndarray, np.ndarray]:
        """p99 latency as the first client recorded it (or the first service, where nothing answers)."""
        for name in self.rec.clients + self.rec.services:
            s = self.rec.series.get(name)
            if s is not None and np.any(~np.isnan(s.columns["p99_latency_ms"])):
                return s.t - self.origin, s.columns["p99_latency_ms"]
        return np.zeros(0), np.zeros(0)


def open_side(run_dir: str | Path, label: str | None = None) -> RunSide:
    rec = Recording.open(run_dir)
    if rec.summary is None:
        raise RunDirError(f"{run_dir}: no summary.json; the run did not end, so it has no counters to compare")
    origin = rec.origin  # the run clock's zero, as the replay window counts
    return RunSide(label or rec.run_dir.name, rec, dict(rec.summary.get("total", {})), origin)


def differences(sides: list[RunSide]) -> list[str]:
    out = []
    structures = [s.structure() for s in sides]
    for key in ("nodes", "routes", "transports", "brokers"):
        values = [st[key] for st in structures]
        if any(v != values[0] for v in values[1:]):
            out.append(f"{key} differ: " + " vs ".join(f"{s.label}: {_short(v)}" for s, v in zip(sides, values,
                                                                                                  strict=True)))
    for key in COUNTERS:
        values = [s.totals.get(key) for s in sides]
        if any(v != values[0] for v in values[1:]):
            out.append(f"{key}: " + " vs ".join(f"{_fmt(v)} ({s.label})" for s, v in zip(sides, values, strict=True)))
    return out


def same_structure(sides: list[RunSide]) -> bool:
    structures = [s.structure() for s in sides]
    return all(st["nodes"] == structures[0]["nodes"] and st["routes"] == structures[0]["routes"]
               for st in structures[1:])


def _short(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join("/".join(map(str, v)) if isinstance(v, tuple | list) else str(v) for v in value) or "none"
    return str(value)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(int(value)) if isinstance(value, int | float) else str(value)


def overlay_png(sides: list[RunSide]) -> str:
    """Throughput and p99 latency of every run on one time axis, as a base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.4), dpi=100)
    for side in sides:
        t, v = side.processed_rate()
        a1.plot(t, v, label=side.label, linewidth=1.6)
        lt, lv = side.latency()
        a2.plot(lt, lv, label=side.label, linewidth=1.4)
        for p in side.rec.periods(side.rec.end):
            a1.axvspan(p.start - side.origin, p.end - side.origin, alpha=0.08, color="#cf222e")
    a1.set_title("processed per second")
    a2.set_title("p99 latency (ms)")
    for ax in (a1, a2):
        ax.set_xlabel("s since the clients started")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    a2.set_yscale("symlog", linthresh=1.0)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def table(sides: list[RunSide]) -> list[dict[str, Any]]:
    rows = []
    for key in COUNTERS:
        values = [s.totals.get(key) for s in sides]
        rows.append({"counter": key, "values": [_fmt(v) for v in values],
                     "differs": any(v != values[0] for v in values[1:])})
    return rows
