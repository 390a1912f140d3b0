"""One clock everywhere (issue 16, defect 9): the report, the GUI and the files agree on when.

The run clock counts from the clients' start, as the scenario does: a kill
`at_s: 1.5` reads 1.5 s in events.jsonl's `run_t`, in the HTML report's event
table and fault periods, whatever the time spent starting services before.
"""

from __future__ import annotations

import re

import pytest

from engines.report import build
from tests.runtime.conftest import example


@pytest.mark.timeout(120)
def test_a_scenario_kill_reads_its_own_time_in_the_files_and_the_report(lab):
    summary, sup = lab.run(example("02"))
    events = build.read_events(sup.run_dir / "events.jsonl")
    origin = build.run_origin(events)
    assert origin > 0  # services started first: the log's clock runs ahead of the run's
    kill = next(e for e in events if e["event"] == "scenario" and e["action"] == "kill")
    assert abs(kill["run_t"] - kill["at_s"]) < 0.1
    assert abs(kill["t"] - origin - kill["at_s"]) < 0.1
    page = build.build_report(sup.run_dir).read_text(encoding="utf-8")
    rows = re.findall(r"<tr><td>([0-9.\-]+) s</td><td>pricing</td>", page)
    assert rows, "no event of 'pricing' in the report's table"
    assert any(abs(float(r) - kill["at_s"]) < 0.1 for r in rows), (rows, kill)
    spans = re.findall(r"pricing[^:<]*: ([0-9.]+) s – ([0-9.]+) s", page)
    assert spans and abs(float(spans[0][0]) - kill["at_s"]) < 0.15, spans
