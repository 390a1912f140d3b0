"""The lesson panel's words as HTML (no Qt): a step, the answers beside the ledger, two runs compared.

Explanations of the run's counters come from engines.explain
(`explain_run(run_dir)`: the run's own events and settings); a counter it says
nothing about is shown with its meaning from the ledger's own table.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

from engines.explain import explain_run
from engines.ledger.counters import COUNTERS
from engines.lessons.judge import Outcome, number
from engines.lessons.model import Lesson, Step
from engines.topology.expectations import Verdict

SHOWN = ("sent", "acknowledged", "delivered", "processed", "lost", "in_doubt", "duplicates_delivered",
         "duplicates_processed", "duplicates_suppressed", "redelivered", "timeouts", "errors", "retries",
         "throughput", "p50_latency_ms")
GREEN, RED, GREY = "#2b8a3e", "#c92a2a", "#666"


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{escape(' '.join(p.split()))}</p>" for p in text.split("\n\n") if p.strip())


def step_html(lesson: Lesson, index: int, variant_label: str | None) -> str:
    step = lesson.steps[index]
    head = f"<p><b>Goal.</b> {escape(' '.join(lesson.goal.split()))}</p>" if index == 0 else ""
    what = ""
    if step.variant:
        what = (f"<p style='color:{GREY}'>Runs: <b>{escape(variant_label or step.variant)}</b> "
                "(applied to the canvas; Ctrl+Z undoes it).</p>")
    if step.compare:
        what = "<p style='color:{}'>Compares: <b>{}</b> and <b>{}</b>.</p>".format(GREY, *map(escape, step.compare))
    return head + _paragraphs(step.text) + what


def outcomes_html(step: Step, outcomes: list[Outcome], verdicts: list[Verdict],
                  explained: Mapping[tuple[str, str], str] | None = None) -> str:
    blocks = []
    for q, o in zip(step.questions, outcomes, strict=True):
        mark = "" if o.right is None else (f" <span style='color:{GREEN}'>✔ right</span>" if o.right
                                           else f" <span style='color:{RED}'>✘ off</span>")
        blocks.append(f"<p><b>{escape(q.ask)}</b><br>you: <b>{escape(o.predicted or '—')}</b> &nbsp;·&nbsp; "
                      f"ledger: <b>{escape(o.ledger.text())}</b>{mark}<br>"
                      f"<span style='color:#333'>{escape(o.explanation)}</span>"
                      f"{_run_says(o, explained or {})}</p>")
    answers = ("<h3>Your prediction and the ledger</h3>" + "".join(blocks)) if blocks else ""
    checks = "".join(
        f"<li><span style='color:{GREEN if v.passed else RED}'>{'PASS' if v.passed else 'FAIL'}</span> "
        f"<code>{escape(v.expectation.text)}</code> ({escape(v.detail())})</li>" for v in verdicts)
    return answers + (f"<h3>What the lesson expects</h3><ul>{checks}</ul>" if checks else "")


def explanations(run_dir: Path | None) -> dict[tuple[str, str], str]:
    """(subject, counter) -> the run's own explanation from engines.explain, if the lab has it
    (subject 'total', a node's name or a link's 'a->b')."""
    if run_dir is None:
        return {}
    try:
        found = explain_run(run_dir)
    except Exception:  # a run directory it cannot read (damaged, partial): the counters alone
        return {}
    return {(str(e.subject), str(e.counter)): str(e.text) for e in found}


def _run_says(outcome: Outcome, explained: Mapping[tuple[str, str], str]) -> str:
    """The run's own explanation of each counter a question's answer read."""
    texts = []
    for name in outcome.ledger.read:
        subject, _, counter = name.rpartition(".")
        text = explained.get((subject or "total", counter))
        if text and text not in texts:
            texts.append(text)
    return "".join(f"<br><i style='color:#1c5d99'>This run: {escape(t)}</i>" for t in texts)


def counters_html(summary: Mapping[str, Any] | None, explained_by: Mapping[tuple[str, str], str]) -> str:
    """Every number the run's total shows, each with what explains it."""
    if not summary:
        return ""
    total = summary.get("total", {}) or {}
    explained = {counter: text for (subject, counter), text in explained_by.items() if subject == "total"}
    rows = []
    for name in SHOWN:
        value = total.get(name)
        if value is None:
            continue
        why = explained.get(name) or COUNTERS.get(name, "")
        rows.append(f"<tr><td style='white-space:nowrap'><b>{escape(name)}</b></td><td align='right'>{number(float(value))}</td>"
                    f"<td style='color:#444'>{escape(why)}</td></tr>")
    title = "Every number of this run" + ("" if explained else " and what it counts")
    return f"<h3>{title}</h3><table cellspacing='3'>{''.join(rows)}</table>"


def comparison_html(labels: list[str], summaries: list[Mapping[str, Any] | None]) -> str:
    """Two runs' totals side by side; rows where they differ in bold."""
    if not all(summaries):
        return ""
    totals = [(s or {}).get("total", {}) or {} for s in summaries]
    rows = []
    for name in SHOWN:
        values = [t.get(name) for t in totals]
        if all(v is None for v in values):
            continue
        differ = len({v for v in values}) > 1
        cells = "".join(f"<td align='right'>{'<b>' if differ else ''}"
                        f"{number(float(v)) if v is not None else '—'}{'</b>' if differ else ''}</td>"
                        for v in values)
        rows.append(f"<tr><td style='white-space:nowrap'>{escape(name)}</td>{cells}</tr>")
    head = "".join(f"<th>{escape(label)}</th>" for label in labels)
    return (f"<h3>Two runs side by side</h3><table cellspacing='4'><tr><th></th>{head}</tr>{''.join(rows)}"
            "</table><p style='color:#666'>Bold: the numbers that differ. <i>Open side by side</i> "
            "replays both runs on one time slider.</p>")
