"""The report's "messages behind the counters" section: each counter opens its IDs, each ID its diagram.

Pure HTML and CSS (no script, so the page stays self-contained and safe to
mail): a counter is a <details> listing its message IDs as links; a link
targets that message's sequence diagram, shown by the CSS :target rule. At
most DIAGRAMS per counter are drawn (the rest are listed, with the command
that tells their story). Rendered with an autoescaping Jinja2 template.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from engines.report.periods import FaultPeriod
from engines.topology.model import Topology
from engines.trace import ids as idlists
from engines.trace import merge, story, svg
from engines.trace.rundata import RunDirError, client_indexes

DIAGRAMS = 20
SHOWN = ("lost", "in_doubt", "duplicates_processed", "duplicates_suppressed", "duplicates_delivered",
         "redelivered", "timeouts", "retries", "nacks", "errors")

CSS = """
.counters details{background:#fff;border-radius:6px;box-shadow:0 1px 2px #0002;margin:4px 0;padding:6px 10px}
.counters summary{cursor:pointer;font-weight:600}
.counters .ids a{display:inline-block;margin:2px 6px 2px 0;font-family:monospace}
.story{display:none;background:#fff;border-radius:8px;box-shadow:0 1px 2px #0002;padding:8px;margin:8px 0}
.story:target{display:block} .story svg{max-width:100%;height:auto}
"""

_TEMPLATE = """
<h2 id="messages">Messages behind the counters</h2>
{% if not counters %}<p class="meta">No message was lost, in doubt, duplicated, redelivered, retried or timed out.</p>{% endif %}
<div class="counters">
{% for c in counters %}<details id="ids-{{ c.key }}"{% if c.open %} open{% endif %}><summary>{{ c.name }} ({{ c.count }})</summary>
<div class="ids">{% for i in c.ids %}<a href="#{{ i.anchor }}">{{ i.id }}</a>{% endfor %}</div>
{% if c.more %}<p class="meta">{{ c.more }} more without a diagram here: <code>labgui trace {{ run_dir }} ID</code> tells any of them.</p>{% endif %}
</details>{% endfor %}
</div>
{% for d in diagrams %}<div class="story" id="{{ d.anchor }}">{{ d.svg }}
{% for n in d.notes %}<p class="meta">{{ n }}</p>{% endfor %}</div>{% endfor %}
{% if note %}<p class="meta">{{ note }}</p>{% endif %}
"""

_env = Environment(autoescape=True)


def anchor(text_id: str) -> str:
    return "msg-" + re.sub(r"[^A-Za-z0-9_-]", "-", text_id)


def section(run_dir: Path, topology: Topology, periods: list[FaultPeriod]) -> str:
    """The section's HTML ('' for a run without ids.json); never raises for a damaged trace."""
    try:
        ids = idlists.read(run_dir)
    except RunDirError as exc:
        return f'<p class="note">{Markup.escape(str(exc))}</p>'
    if not ids:
        return ""
    note = ""
    try:
        trace: merge.Trace | None = merge.load(run_dir)
        clients = client_indexes(run_dir)
    except RunDirError as exc:
        trace, clients, note = None, {}, f"No sequence diagrams: {exc}"
    counters: list[dict[str, Any]] = []
    diagrams: dict[str, dict[str, Any]] = {}
    for name in SHOWN:
        data = ids.get(name) or {}
        listed = list(data.get("ids", []))
        if not data.get("count"):
            continue
        drawn = listed[:DIAGRAMS] if trace is not None else []
        for text_id in drawn:
            if text_id not in diagrams:
                s = story.build(trace, topology, text_id, clients, periods, ids)  # type: ignore[arg-type]
                diagrams[text_id] = {"anchor": anchor(text_id), "svg": Markup(svg.render(s)),
                                     "notes": s.notes}
        counters.append({"key": name, "name": name.replace("_", " "), "count": data["count"],
                         "ids": [{"id": i, "anchor": anchor(i)} for i in drawn],
                         "more": int(data["count"]) - len(drawn), "open": True})
    return _env.from_string(_TEMPLATE).render(counters=counters, diagrams=list(diagrams.values()),
                                              run_dir=str(run_dir), note=note)
