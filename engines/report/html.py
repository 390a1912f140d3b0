"""The HTML page of a run: verdict, big counters, expectations, plots, tables, events.

Self-contained (CSS inline, plots embedded as base64 PNG) so it can be mailed
or attached to a CI job and still open anywhere.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from engines.ledger.counters import COUNTERS
from engines.report.explain_html import CSS as _EXPLAIN_CSS
from engines.report.messages import CSS as _MESSAGES_CSS
from engines.report.periods import FaultPeriod
from engines.topology.expectations import Verdict

BIG_COUNTERS = ("sent", "processed", "lost", "in_doubt", "duplicates_delivered",
                "duplicates_suppressed", "duplicates_processed")
TABLE_COUNTERS = ("sent", "acknowledged", "delivered", "processed", "lost", "in_doubt",
                  "duplicates_delivered", "duplicates_suppressed", "duplicates_processed",
                  "redelivered", "timeouts", "errors", "retries", "p50_latency_ms", "p99_latency_ms")

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d232a;background:#f5f6f8}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 8px}
.desc{color:#4a5560;white-space:pre-wrap;margin:4px 0 12px}
.badge{display:inline-block;padding:3px 10px;border-radius:12px;font-weight:600;color:#fff;font-size:13px}
.pass{background:#1a7f37}.fail{background:#cf222e}.none{background:#6e7781}
.cards{display:grid;grid-template-columns:repeat(7,1fr);gap:8px}
.card{background:#fff;border-radius:8px;padding:10px 12px;box-shadow:0 1px 2px #0002}
.card .v{font-size:24px;font-weight:650}.card .k{font-size:12px;color:#57606a}
.card .v a{color:inherit;text-decoration:none}.card.bad .v{color:#cf222e}.card.good .v{color:#1a7f37}
.scroll{overflow-x:auto;box-shadow:0 1px 2px #0002;border-radius:6px}
table{border-collapse:collapse;background:#fff;width:100%;font-size:12px}
th,td{padding:5px 6px;border-bottom:1px solid #eaeef2;text-align:right;white-space:nowrap}
table.events td,table.events th{text-align:left}
th:first-child,td:first-child{text-align:left} th{background:#f0f2f4;font-weight:600;white-space:normal}
td.ok{color:#1a7f37;font-weight:600} td.ko{color:#cf222e;font-weight:600}
img{max-width:100%;background:#fff;border-radius:8px;box-shadow:0 1px 2px #0002}
.note{background:#fff8c5;border:1px solid #d4a72c;padding:8px 12px;border-radius:6px}
.meta{color:#57606a;font-size:12px}
"""


@dataclass
class ReportData:
    title: str
    description: str
    duration_s: float
    totals: Mapping[str, Any]
    per_node: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    per_link: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    verdicts: Sequence[Verdict] = ()
    periods: Sequence[FaultPeriod] = ()
    events: Sequence[Mapping[str, Any]] = ()
    notes: Sequence[str] = ()
    meta: Mapping[str, str] = field(default_factory=dict)
    chains: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # engines.ledger.chain
    messages_html: str = ""  # engines.report.messages: already-escaped HTML
    internals_html: str = ""  # engines.report.internals: already-escaped HTML
    explain_html: str = ""  # engines.report.explain_html: already-escaped HTML
    explain: Mapping[str, str] = field(default_factory=dict)  # counter -> the total's explanation


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 or value.is_integer() else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return escape(str(value))


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{escape(path.stem)}" src="data:image/png;base64,{data}">'


def _verdict_badge(verdicts: Sequence[Verdict]) -> str:
    if not verdicts:
        return '<span class="badge none">no expectations</span>'
    failed = sum(not v.passed for v in verdicts)
    if failed:
        return f'<span class="badge fail">FAIL · {failed} of {len(verdicts)} expectations</span>'
    return f'<span class="badge pass">PASS · {len(verdicts)} expectations</span>'


def _cards(totals: Mapping[str, Any], explain: Mapping[str, str] | None = None) -> str:
    out = []
    for key in BIG_COUNTERS:
        value = totals.get(key)
        tone = ""
        if key in ("lost", "in_doubt", "duplicates_processed"):
            tone = "bad" if value else "good"
        link = value and key not in ("sent", "processed")  # a click opens its messages (engines.report.messages)
        v = f'<a href="#ids-{key}">{_fmt(value)}</a>' if link else _fmt(value)
        why = (explain or {}).get(key)  # engines.explain: the reason, on hover and in "Why these numbers"
        title = escape(why or COUNTERS[key])
        k = f'<a href="#why-{key}">{key.replace("_", " ")}</a>' if why else key.replace("_", " ")
        out.append(f'<div class="card {tone}" title="{title}">'
                   f'<div class="v">{v}</div><div class="k">{k}</div></div>')
    return '<div class="cards">' + "".join(out) + "</div>"


def _verdicts(verdicts: Sequence[Verdict]) -> str:
    if not verdicts:
        return "<p>This topology states no expectations.</p>"
    rows = []
    for v in verdicts:
        cls, word = ("ok", "PASS") if v.passed else ("ko", "FAIL")
        measured = escape(v.problem) if v.problem else (
            escape(", ".join(f"{k} = {x:g}" for k, x in v.values.items())) if len(v.values) > 1
            else _fmt(v.measured))
        rows.append(f"<tr><td><code>{escape(v.expectation.text)}</code></td>"
                    f"<td>{measured}</td><td class='{cls}'>{word}</td></tr>")
    return ("<table><tr><th>expectation</th><th>measured</th><th>verdict</th></tr>"
            + "".join(rows) + "</table>")


def _table(rows: Mapping[str, Mapping[str, Any]], first: str) -> str:
    if not rows:
        return ""
    cols = [c for c in TABLE_COUNTERS if any(c in r for r in rows.values())]
    head = f"<tr><th>{first}</th>" + "".join(f"<th title='{escape(COUNTERS[c])}'>"
                                              f"{c.replace('_', ' ')}</th>" for c in cols) + "</tr>"
    body = "".join(f"<tr><td>{escape(name)}</td>" + "".join(f"<td>{_fmt(r.get(c))}</td>" for c in cols)
                   + "</tr>" for name, r in rows.items())
    return f"<div class='scroll'><table>{head}{body}</table></div>"


CHAIN_COLUMNS = ("upstream", "reached", "hop_lost", "orphans", "duplicates_processed",
                 "duplicates_suppressed")


def _chains(chains: Mapping[str, Mapping[str, Any]]) -> str:
    """Each client's chain, hop by hop (engines.ledger.chain)."""
    parts = []
    for client, table in chains.items():
        head = "<tr><th>hop</th><th>to</th>" + "".join(f"<th>{c.replace('_', ' ')}</th>"
                                                       for c in CHAIN_COLUMNS) + "</tr>"
        body = "".join(f"<tr><td>{escape(s['link'])}</td><td>{escape(s['to'])}</td>"
                       + "".join(f"<td>{_fmt(s.get(c))}</td>" for c in CHAIN_COLUMNS) + "</tr>"
                       for s in table["stages"])
        parts.append(f"<h3>{escape(client)}: {table['entered']} entered, {table['e2e_reached']} "
                     f"reached the end, {table['e2e_lost']} lost on the way, "
                     f"{table['e2e_duplicates']} duplicate(s)</h3>"
                     f"<div class='scroll'><table>{head}{body}</table></div>")
    return "<h2>Chains, hop by hop</h2>" + "".join(parts) if parts else ""


def _events(events: Sequence[Mapping[str, Any]]) -> str:
    if not events:
        return "<p>No events.</p>"
    rows = "".join(
        f"<tr><td>{float(e.get('t', 0)):.2f} s</td><td>{escape(str(e.get('target', '')))}</td>"
        f"<td>{escape(str(e.get('action', e.get('state', ''))))}</td>"
        f"<td>{escape(str(e.get('detail', '')))}</td></tr>" for e in events)
    return ("<div class='scroll'><table class='events'><tr><th>time</th><th>target</th>"
            f"<th>event</th><th>detail</th></tr>{rows}</table></div>")


def render(data: ReportData, plots: Sequence[Path], path: Path) -> Path:
    faults = "".join(f"<li>{escape(p.label)}: {p.start:.1f} s – {p.end:.1f} s"
                     f"{' (until the end)' if p.open_ended else ''}</li>" for p in data.periods)
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in data.notes)
    meta = " · ".join(f"{escape(k)}: {escape(v)}" for k, v in data.meta.items())
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{escape(data.title)} – Topology Lab report</title><style>{_CSS}{_MESSAGES_CSS}{_EXPLAIN_CSS}</style></head><body><main>
<h1>{escape(data.title)} {_verdict_badge(data.verdicts)}</h1>
<p class="meta">run of {data.duration_s:.1f} s{' · ' + meta if meta else ''}</p>
<p class="desc">{escape(data.description)}</p>
{notes}
{_cards(data.totals, data.explain)}
{data.explain_html}
{data.messages_html}
<h2>Expectations</h2>{_verdicts(data.verdicts)}
<h2>Over time</h2>{''.join(_img(p) for p in plots)}
{data.internals_html}
{'<h2>Faults</h2><ul>' + faults + '</ul>' if faults else ''}
<h2>Per node</h2>{_table(data.per_node, 'node')}
<h2>Per link</h2>{_table(data.per_link, 'link')}
{_chains(data.chains)}
<h2>Events</h2>{_events(data.events)}
</main></body></html>"""
    path.write_text(html, encoding="utf-8")
    return path
