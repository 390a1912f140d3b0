"""Every counter of every node, link and chain row, with the reason the run's own facts give."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from engines.explain import clients, duplicates, losses
from engines.explain.context import Scope, scope_of
from engines.explain.facts import load
from engines.explain.model import SHOWN_IDS, Explanation, RunFacts, n, when

Cause = tuple[str, str]
DUPLICATE_COUNTERS = ("duplicates_delivered", "duplicates_suppressed", "duplicates_processed", "redelivered",
                      "resent_in_doubt", "retries", "e2e_duplicates")
LOSS_COUNTERS = ("lost", "hop_lost", "e2e_lost", "orphans")
EXPLAINED = LOSS_COUNTERS + DUPLICATE_COUNTERS + tuple(clients.RULES)
LABELS = {"duplicates_processed": "duplicates applied twice", "duplicates_delivered": "delivered twice",
          "rejected_bulkhead": "rejected by bulkhead", "short_circuited": "short-circuited by breaker",
          "e2e_lost": "lost end to end", "e2e_duplicates": "duplicates end to end"}


def label(counter: str) -> str:
    return LABELS.get(counter, counter.replace("_", " "))


def anchor(text_id: str) -> str:
    """The sequence diagram's anchor in report.html (engines.report.messages uses the same)."""
    return "msg-" + re.sub(r"[^A-Za-z0-9_-]", "-", text_id)


def _ids(sc: Scope, counter: str, value: int) -> list[str]:
    """The IDs behind this counter of this subject, only when they are exactly its own."""
    data = sc.facts.ids.get(counter) or {}  # ids.json lists the ledger's own counters only (no hop or e2e)
    listed = [str(i) for i in data.get("ids", [])]
    if sc.scope == "total":
        return listed
    mine = [i for i in listed if i.rsplit(":", 1)[0] in sc.clients]
    total = n(sc.facts.counts("total", "").get(counter))
    exact = len(mine) == value or (value == total and len(mine) == len(listed) and n(data.get("count")) == value)
    return mine if exact and mine else []


def _causes(sc: Scope, counter: str, counts: Mapping[str, Any]) -> list[Cause]:
    if counter in LOSS_COUNTERS:
        return losses.causes(sc)
    if counter in ("retries", "resent_in_doubt"):
        return duplicates.resends(sc)
    if counter in DUPLICATE_COUNTERS:
        return duplicates.causes(sc)
    rule: Callable[[Scope, Mapping[str, Any]], list[Cause]] = clients.RULES[counter]
    return rule(sc, counts)


def _unknown(sc: Scope) -> str:
    known = sc.all_faults() or list(sc.facts.faults)
    if not known:
        return "no fault or state change was recorded in this run's events, so the cause cannot be named here"
    by: dict[str, list[Any]] = {}
    for f in known:
        by.setdefault(f.target, []).append(f)
    return ("the cause could not be determined from this run; the known events are: "
            + "; ".join(f"'{t}' {when(fs)}" for t, fs in by.items()))


def _narrowed(sc: Scope, counter: str) -> Scope:
    """Only the services whose own count moved (the total's 'lost' is the latecomer's, not the
    dashboard's); all of them when none has a count of its own (chain rows, end to end)."""
    own = {"lost": ("lost",), "duplicates_suppressed": ("duplicates_suppressed",),
           "duplicates_processed": ("duplicates_processed",),
           "duplicates_delivered": ("duplicates_delivered", "redelivered"),
           "redelivered": ("duplicates_delivered", "redelivered")}.get(counter, ())
    if sc.scope == "chain" or not own:
        return sc
    moved = [s for s in sc.services if any(n(sc.facts.counts("node", s).get(k)) for k in own)]
    if not moved:
        return sc
    senders = [c for c in sc.clients if set(sc.facts.services_of(c)) & set(moved)]
    return replace(sc, services=moved, clients=senders or sc.clients)


def _nonzero(sc: Scope, counter: str, value: int, counts: Mapping[str, Any]) -> Explanation:
    sc = _narrowed(sc, counter)
    found = _causes(sc, counter, counts)
    parts = [text for _, text in found]
    if counter in ("duplicates_delivered", "duplicates_suppressed", "duplicates_processed", "redelivered",
                   "e2e_duplicates"):
        effect = duplicates.effect(sc, counter)
        if effect and sc.scope != "chain":
            parts.append(effect)
    if not found:
        parts.append(_unknown(sc) + (losses.pubsub_hint(sc) if counter in LOSS_COUNTERS else ""))
    ids = _ids(sc, counter, value)
    text = f"{label(counter)} {value:,}" + ("" if sc.facts.final else " so far") + ": " + "; ".join(parts)
    if ids:
        shown = ", ".join(ids[:SHOWN_IDS]) + (f" and {value - SHOWN_IDS:,} more" if value > SHOWN_IDS else "")
        text += f" (message{'s' if value > 1 else ''} {shown})"
    return Explanation(sc.scope, sc.subject, counter, value, text, tuple(ids),
                       tuple(anchor(i) for i in ids[:20]), tuple(c for c, _ in found) or ("unknown",))


def _zero(sc: Scope, counter: str, counts: Mapping[str, Any]) -> Explanation | None:
    why: str | None = None
    if counter == "lost":
        why = losses.why_none(sc)
    elif counter in ("duplicates_processed", "duplicates_suppressed"):
        twice = n(counts.get("duplicates_delivered"))
        if sc.scope == "chain":
            twice = n(counts.get("duplicates_processed")) + n(counts.get("duplicates_suppressed"))
        why = duplicates.why_none(sc, counter, twice)
    if not why:
        return None
    return Explanation(sc.scope, sc.subject, counter, 0, f"{label(counter)} 0: {why}", causes=("zero",))


def explain_counts(sc: Scope, counts: Mapping[str, Any]) -> list[Explanation]:
    out: list[Explanation] = []
    for counter in EXPLAINED:
        if counter not in counts:
            continue
        value = n(counts.get(counter))
        item = _nonzero(sc, counter, value, counts) if value else _zero(sc, counter, counts)
        if item is not None:
            out.append(item)
    return out


def _subjects(facts: RunFacts) -> Iterable[tuple[str, str, Mapping[str, Any]]]:
    yield "total", "total", facts.counts("total", "")
    for name, counts in (facts.summary.get("nodes") or {}).items():
        yield "node", str(name), counts
    for name, counts in (facts.summary.get("links") or {}).items():
        yield "link", str(name), counts
    for client, table in (facts.summary.get("chains") or {}).items():
        for stage in table.get("stages", []):
            yield "chain", f"{client}: {stage.get('link')}", stage


def explain_facts(facts: RunFacts) -> list[Explanation]:
    """Explanations for every subject of the facts' summary (a finished run's or the live ledger's)."""
    out: list[Explanation] = []
    for scope, subject, counts in _subjects(facts):
        sc = scope_of(facts, scope, subject)
        if scope == "chain":
            stage_to = str(counts.get("to", ""))
            sc.services = [stage_to] + [s for s in sc.services if s != stage_to]
        out += explain_counts(sc, counts)
    return out


def explain_run(run_dir: str | Path, node: str | None = None, counter: str | None = None) -> list[Explanation]:
    """A finished run directory's explanations, optionally only one node's or link's, one counter's."""
    found = explain_facts(load(run_dir))
    return [e for e in found if (node is None or e.subject == node or e.subject.endswith(f": {node}"))
            and (counter is None or e.counter == counter)]


def index(items: Iterable[Explanation]) -> dict[tuple[str, str, str], Explanation]:
    """(scope, subject, counter) -> explanation, for the GUI's tooltips and the report."""
    return {e.key: e for e in items}
