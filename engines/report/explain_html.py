"""The report's "Why these numbers" section: each counter's explanation (engines.explain) beside it.

The total's explanations open first, each node's, link's and chain row's below
in a <details>; a message ID links to its sequence diagram further down the
page (engines.report.messages draws the first ones) when it has one there.
"""

from __future__ import annotations

import re
from pathlib import Path

from jinja2 import Environment

from engines.explain import Explanation, explain_run
from engines.trace.rundata import RunDirError

CSS = """
.why{background:#fff;border-radius:8px;box-shadow:0 1px 2px #0002;padding:6px 12px;margin:6px 0}
.why p{margin:4px 0}.why .c{font-weight:650}.why .zero{color:#57606a}
.why a{font-family:monospace}.why summary{cursor:pointer;font-weight:600}
"""

_TEMPLATE = """
<h2 id="why">Why these numbers</h2>
{% if not total and not others %}<p class="meta">Nothing to explain: no counter moved and no fault could have moved one.</p>{% endif %}
{% if total %}<div class="why">{% for e in total %}<p id="why-{{ e.counter }}" class="{{ 'zero' if not e.value else '' }}">
<span class="c">{{ e.head }}</span>: {{ e.body }}{% if e.links %} — {% for i in e.links %}<a href="#{{ i.anchor }}">{{ i.id }}</a> {% endfor %}{% endif %}</p>{% endfor %}</div>{% endif %}
{% for subject, items in others %}<details class="why"><summary>{{ subject }}</summary>
{% for e in items %}<p class="{{ 'zero' if not e.value else '' }}"><span class="c">{{ e.head }}</span>: {{ e.body }}</p>{% endfor %}
</details>{% endfor %}
"""

_env = Environment(autoescape=True)


def _row(e: Explanation, drawn: set[str]) -> dict[str, object]:
    head, _, body = e.text.partition(": ")
    links = [{"id": i, "anchor": a} for i, a in zip(e.message_ids, e.story_refs, strict=False) if a in drawn]
    return {"counter": e.counter, "value": e.value, "head": head, "body": body, "links": links[:5]}


def section(run_dir: Path, messages_html: str) -> tuple[str, dict[str, str]]:
    """The section's HTML, and the total's explanation per counter (the cards' tooltips).
    `messages_html` is the messages section: an ID links only to a diagram drawn there."""
    drawn = set(re.findall(r'class="story" id="([^"]+)"', messages_html))
    try:
        found = explain_run(run_dir)
    except RunDirError as exc:
        return f'<p class="note">No explanations: {exc}</p>', {}
    total = [e for e in found if e.scope == "total"]
    by: dict[str, list[dict[str, object]]] = {}
    for e in found:
        if e.scope != "total":
            by.setdefault(f"{e.scope} {e.subject}", []).append(_row(e, drawn))
    html = _env.from_string(_TEMPLATE).render(total=[_row(e, drawn) for e in total], others=list(by.items()))
    return html, {e.counter: e.text for e in total}
