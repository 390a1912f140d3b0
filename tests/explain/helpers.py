"""Fake runs for the explanation rules: a real example's settings, a made-up summary and faults."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from engines.explain import Explanation, explain_facts
from engines.explain.facts import settings
from engines.explain.model import Fault, RunFacts
from engines.topology import topofile
from tests.conftest import EXAMPLES


def node(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for n in data["nodes"] if n["name"] == name)


def link(data: dict[str, Any], a: str, b: str) -> dict[str, Any]:
    return next(x for x in data["links"] if x["from"] == a and x["to"] == b)


def facts(prefix: str, summary: dict[str, Any], faults: list[Fault] = (),  # type: ignore[assignment]
          change: Callable[[dict[str, Any]], None] | None = None,
          ids: dict[str, Any] | None = None, final: bool = True) -> RunFacts:
    """Example `prefix`'s settings (changed by `change`), validated as a real file would be."""
    source = next(p for p in EXAMPLES if p.name.startswith(prefix))
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    if change is not None:
        change(data)
    topology = topofile.loads(yaml.safe_dump(data, sort_keys=False)).topology
    nodes, links = settings(topology)
    full = {"total": {}, "nodes": {}, "links": {}, **summary}
    return RunFacts(nodes, links, full, list(faults), ids or {}, final)


def one(found: list[Explanation], scope: str, subject: str, counter: str) -> Explanation:
    hits = [e for e in found if e.key == (scope, subject, counter)]
    assert hits, f"no explanation of {scope} {subject} {counter}: {[e.key for e in found]}"
    return hits[0]


def explain(f: RunFacts) -> list[Explanation]:
    return explain_facts(f)
