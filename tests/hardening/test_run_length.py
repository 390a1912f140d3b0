"""A run lasts until its last timed scenario step has happened and settled, not just until the
clients finish; steps that can never fire are warned about by validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.runtime import Supervisor
from engines.topology import topofile

LATE_STEPS = """
version: 1
name: late-steps
duration_s: 30
nodes:
  - {name: c, kind: client, style: notification, transport: zmq, rate: 0, count: 200}
  - {name: s, kind: service}
links:
  - {from: c, to: s}
scenario:
  - {action: kill, target: s, at_s: 1.5}
  - {action: start, target: s, at_s: 2}
"""


@pytest.mark.timeout(90)
def test_steps_after_the_clients_finish_still_fire(tmp_path: Path) -> None:
    """The client is done in a fraction of a second; the kill and the start of the service
    at 1.5 and 2 s still happen, and the run waits for the service to be back up."""
    with Supervisor(topofile.loads(LATE_STEPS).topology, tmp_path / "run") as sup:
        summary = sup.run()
        events = sup.events.since(0)
    fired = [(e.get("node"), e.get("action")) for e in events if e["event"] == "scenario"]
    assert fired == [("s", "kill"), ("s", "start")], fired
    assert summary["node_states"]["s"]["lives"] == 2
    assert summary["node_states"]["s"]["state"] == "exited"  # back up, then stopped in order
    assert summary["total"]["duration_s"] < 30  # it did not wait for duration_s either
    assert summary["nodes"]["c"]["processed"] == 200


def test_validation_warns_about_steps_that_can_never_fire() -> None:
    text = LATE_STEPS.replace("duration_s: 30", "duration_s: 5").replace(
        "  - {action: start, target: s, at_s: 2}",
        "  - {action: start, target: s, at_s: 8}\n  - {action: pause, target: s, after_messages: 500}")
    warnings = [str(w) for w in topofile.loads(text, "late.topo.yaml").warnings]
    assert any("at 8 s can never fire" in w and ":12:" in w for w in warnings), warnings
    assert any("after 500 messages can never fire" in w and "at most 200" in w for w in warnings), warnings
