"""The report's "Inside the brokers" section: ready vs unacknowledged per queue, and what survived.

Reads internals.csv (the management API's samples, engines.brokers.internals_monitor)
and the summary's `broker_queues` and `broker_survival`; nothing when the run
had no managed broker. Returns already-escaped HTML for engines.report.html.
"""

from __future__ import annotations

import base64
import csv
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from engines.report.periods import FaultPeriod
from engines.report.plots import Panel, render_panel

MAX_QUEUES = 6  # plotted; the table lists them all


def section(run_dir: Path, summary: Mapping[str, Any], origin: float,
            periods: Sequence[FaultPeriod], duration: float) -> str:
    peaks: Mapping[str, Mapping[str, int]] = summary.get("broker_queues") or {}
    outages: Sequence[Mapping[str, Any]] = summary.get("broker_survival") or []
    if not peaks and not outages:
        return ""
    parts = ['<h2 id="brokers-inside">Inside the brokers</h2>',
             '<p class="meta">From the RabbitMQ management API, sampled every 0.5 s (its counts '
             'lag by about a second): ready messages wait in the queue, unacknowledged ones are '
             'out at a consumer that has not acked them yet.</p>']
    plot = _plot(run_dir, origin, periods, duration)
    if plot:
        parts.append(plot)
    if peaks:
        rows = "".join(
            f"<tr><td>{escape(name)}</td><td>{'yes' if p.get('durable') else 'no'}</td>"
            f"<td>{p.get('ready_max', 0):,}</td><td>{p.get('unacked_max', 0):,}</td>"
            f"<td>{p.get('redelivered', 0):,}</td></tr>" for name, p in sorted(peaks.items()))
        parts.append('<div class="scroll"><table><tr><th>broker/queue</th><th>durable</th>'
                     '<th>ready, most</th><th>unacked, most</th><th>redelivered</th></tr>'
                     f"{rows}</table></div>")
    for outage in outages:
        parts.append(_outage(outage))
    return "\n".join(parts)


def _outage(outage: Mapping[str, Any]) -> str:
    head = (f"<h2>What survived: {escape(str(outage['broker']))} {escape(str(outage['how']))} at "
            f"{outage['down_at_s']:.1f} s, ready again at {outage['ready_at_s']:.1f} s</h2>")
    rows = []
    for r in outage.get("queues", []):
        after = "gone" if r.get("gone") else ("–" if r.get("after") is None else f"{r['after']:,}")
        lost = "–" if r.get("ledger_lost") is None else f"{r['ledger_lost']:,}"
        persistent = {True: "yes", False: "no", None: "–"}[r.get("persistent")]
        rows.append(f"<tr><td>{escape(r['queue'])}</td><td>{'yes' if r['durable'] else 'no'}</td>"
                    f"<td>{persistent}</td><td>{r['before']:,}</td><td>{after}</td><td>{lost}</td>"
                    f"<td style=\"text-align:left\">{escape(r['why'])}</td></tr>")
    return (head + '<p class="meta">before and after: messages in the queue (ready + unacked) at '
            'the last sample before the outage and the first after it (the broker\'s figure); '
            'ledger lost: what the queue\'s consumers never processed, counted exactly, over the '
            'whole run.</p><div class="scroll"><table><tr><th>queue</th><th>durable</th>'
            '<th>persistent</th><th>before</th><th>after</th><th>ledger lost</th><th>why</th></tr>'
            + "".join(rows) + "</table></div>")


def _plot(run_dir: Path, origin: float, periods: Sequence[FaultPeriod], duration: float) -> str:
    path = run_dir / "internals.csv"
    if not path.exists():
        return ""
    series: dict[str, tuple[list[float], list[int], list[int]]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            key = f"{row['broker']}/{row['queue']}"
            if key not in series and len(series) >= MAX_QUEUES:
                continue
            t, ready, unacked = series.setdefault(key, ([], [], []))
            t.append(float(row["t_s"]) - origin)
            ready.append(int(row["ready"]))
            unacked.append(int(row["unacked"]))
    if not series:
        return ""
    panel = Panel("internals", "Ready (solid) and unacknowledged (dashed) messages per queue", "messages")
    palette = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
    for i, (key, (t, ready, unacked)) in enumerate(sorted(series.items())):
        colour = palette[i % len(palette)]
        panel.lines[f"{key} ready"] = _gaps(t, ready)
        panel.lines[f"{key} unacked"] = _gaps(t, unacked)
        panel.styles[f"{key} ready"] = {"color": colour}
        panel.styles[f"{key} unacked"] = {"color": colour, "linestyle": "--"}
    png = render_panel(panel, periods, duration, run_dir / "internals.png")
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    return f'<img alt="broker internals" src="data:image/png;base64,{data}">'


def _gaps(t: list[float], v: list[int], gap_s: float = 1.5) -> tuple[list[float], list[float]]:
    """A break (NaN) where no sample came for `gap_s`: the broker was down, the line stops."""
    out_t: list[float] = []
    out_v: list[float] = []
    for i, (x, y) in enumerate(zip(t, v, strict=True)):
        if i and x - t[i - 1] > gap_s:
            out_t.append((x + t[i - 1]) / 2)
            out_v.append(float("nan"))
        out_t.append(x)
        out_v.append(float(y))
    return out_t, out_v
