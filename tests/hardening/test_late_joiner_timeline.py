"""`join_after_ms` counts from the service's own start; the run's timeline shows the wait.

The late subscriber's "ready" event carries `joining_in_ms`, its "joined"
event marks the join, and the fault periods the report and the GUI's plots
shade include "<service> not joined yet" between the two.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.report.events import fault_events
from engines.report.periods import fault_periods
from engines.runtime import Supervisor
from engines.topology import topofile

LATE = """
version: 1
name: late-joiner
nodes:
  - {name: news, kind: client, style: publish-subscribe, transport: zmq, rate: 500, count: 1500}
  - {name: early, kind: service}
  - {name: late, kind: service, join_after_ms: 800}
links:
  - {from: news, to: early}
  - {from: news, to: late}
"""


@pytest.mark.timeout(90)
def test_a_late_joiner_is_shown_as_not_joined_yet(tmp_path: Path) -> None:
    with Supervisor(topofile.loads(LATE).topology, tmp_path / "run") as sup:
        sup.run()
        events = sup.events.since(0)
        started = sup.started_at
        t0 = sup.events.t0
    ready = [e for e in events if e["event"] == "ready" and e.get("node") == "late"]
    joined = [e for e in events if e["event"] == "joined" and e.get("node") == "late"]
    assert ready and ready[0]["joining_in_ms"] == 800 and joined
    # from the service's own start (both times are when the supervisor heard them: allow 50 ms)
    assert joined[0]["t"] - ready[0]["t"] >= 0.75
    assert started is not None
    shift = started - t0  # event-log clock -> run clock, as the GUI shifts it
    periods = fault_periods(fault_events([{**e, "t": e["t"] - shift} for e in events]), 10.0)
    late = [p for p in periods if p.target == "late"]
    assert [p.label for p in late] == ["late not joined yet"]
    assert late[0].end == pytest.approx(joined[0]["t"] - shift) and not late[0].open_ended
