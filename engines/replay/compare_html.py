"""The comparison page (`labgui compare`): one self-contained HTML file, autoescaped Jinja2."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment

from engines.replay.compare import RunSide, differences, overlay_png, same_structure, table

_TEMPLATE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Comparison – {{ sides|map(attribute='label')|join(' vs ') }}</title><style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#f5f6f8}
main{max-width:1150px;margin:0 auto;padding:24px} h1{font-size:22px} h2{font-size:16px;margin-top:26px}
table{border-collapse:collapse;background:#fff;width:100%;font-size:13px;box-shadow:0 1px 2px #0002}
th,td{padding:5px 8px;border-bottom:1px solid #eaeef2;text-align:right} th:first-child,td:first-child{text-align:left}
tr.diff td{background:#fff8c5;font-weight:600} img{max-width:100%;background:#fff;border-radius:8px}
.same{color:#1a7f37;font-weight:600}.notsame{color:#cf222e;font-weight:600} .meta{color:#57606a;font-size:12px}
li{margin:2px 0} .refused{background:#ffebe9;border:1px solid #cf222e;padding:6px 10px;border-radius:6px}
</style></head><body><main>
<h1>{{ title }}</h1>
<p>Structure: {% if same %}<span class="same">the same design</span> (nodes, styles and routes equal){% else %}<span class="notsame">different designs</span>{% endif %};
transports: {% for s in sides %}{{ s.label }} = {{ s.structure()['transports']|join('+') }}{% if not loop.last %}, {% endif %}{% endfor %}.</p>
{% for r in refused %}<p class="refused">{{ r }}</p>{% endfor %}
<h2>Differences</h2>
{% if diffs %}<ul>{% for d in diffs %}<li>{{ d }}</li>{% endfor %}</ul>{% else %}<p>None: every counter is equal.</p>{% endif %}
<h2>Counters</h2>
<table><tr><th>counter</th>{% for s in sides %}<th>{{ s.label }}</th>{% endfor %}</tr>
{% for row in rows %}<tr{% if row.differs %} class="diff"{% endif %}><td>{{ row.counter }}</td>{% for v in row['values'] %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</table>
<h2>Over time</h2><img alt="throughput and latency of each run" src="data:image/png;base64,{{ png }}">
<h2>Runs</h2><ul>{% for s in sides %}<li>{{ s.label }}: <code>{{ s.rec.run_dir }}</code> – {{ s.rec.topology.name }}</li>{% endfor %}</ul>
<p class="meta">Shaded: fault periods. Time 0 is when each run's clients started.</p>
</main></body></html>"""


def write(sides: list[RunSide], path: Path, title: str = "Runs compared", refused: list[str] | None = None) -> Path:
    html = Environment(autoescape=True).from_string(_TEMPLATE).render(
        sides=sides, title=title, same=same_structure(sides), diffs=differences(sides), rows=table(sides),
        png=overlay_png(sides), refused=refused or [])
    path = Path(path)
    path.write_text(html, encoding="utf-8")
    return path
