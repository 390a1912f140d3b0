"""Explain this number: every counter of a run, with the reason its own events and settings give.

The stable API (the lessons panel, the GUI, the report and `labgui explain` use it):

- ``explain_run(run_dir, node=None, counter=None) -> list[Explanation]``: a finished
  run directory (summary.json, events.jsonl, ids.json, topology.topo.yaml).
- ``explain_facts(facts) -> list[Explanation]`` with ``facts.live(topology, ledger,
  events, ids)`` for a run still going (the live ledger so far; texts say "so far").
- ``Explanation``: scope ("total", "node", "link", "chain"), subject (node name, link
  'a->b', "total", or 'client: a->b' for a chain row), counter, value, text,
  message_ids (the IDs behind it when they are exactly this subject's), story_refs
  (report.html anchors of their sequence diagrams), causes (short tags; "unknown"
  when no evidence was found, "zero" for why a counter stayed 0).

Each rule names a cause only when the run holds its evidence (a fault event on the
run clock, a setting, a counter); otherwise the text lists the events that are
known. A zero counter is explained only where a fault could have moved it (e.g.
"duplicates applied twice 0: no duplicate applied: 'payments' is an idempotent
consumer"). No Qt; imports engines.topology and engines.trace only.
"""

from __future__ import annotations

from engines.explain.api import explain_facts, explain_run, index, label
from engines.explain.model import Explanation

__all__ = ["Explanation", "explain_facts", "explain_run", "index", "label"]
