"""A broker has the same lifecycle states and events as every other node (issue 16, defect 3).

On a real managed RabbitMQ node: `starting` while it boots (with the expected
boot time), `ready` with the measured boot, `killed`, `starting` again on
restart (not `killed` for the whole boot), a second Start while it boots is
refused, and after the run it reads `exited` in the states, in events.jsonl
and in summary.json.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from engines.runtime import Supervisor
from tests.runtime.conftest import example

pytestmark = pytest.mark.rabbitmq


def _rabbit(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(event, detail) of the broker's lifecycle events, in order."""
    return [(e["event"], str(e.get("note", ""))) for e in events
            if e.get("node") == "rabbit" and e["event"] in ("starting", "ready", "killed", "exited",
                                                              "crashed", "note")]


@pytest.mark.timeout(240)
def test_broker_lifecycle_through_a_kill_and_a_restart(lab: Any) -> None:
    topo = example("12")
    seen: list[str] = []
    poked: list[bool] = []

    def tick(sup: Supervisor) -> None:
        state = sup.states()["rabbit"]
        if not seen or seen[-1] != state:
            seen.append(state)
        if state == "starting" and not poked:  # a second Start while it boots: refused
            poked.append(True)
            sup.start_node("rabbit")

    summary, sup = lab.run(topo, duration=60, on_tick=tick)
    lines = [json.loads(line) for line in (sup.run_dir / "events.jsonl").read_text().splitlines()]
    life = _rabbit(lines)
    kinds = [k for k, _ in life if k != "note"]
    # boot, ready; killed at 3 s; restarted at 6 s: starting, ready; exited at the end
    assert kinds == ["starting", "ready", "killed", "starting", "ready", "exited"], life
    first = next(e for e in lines if e.get("node") == "rabbit" and e["event"] == "starting")
    assert first["role"] == "broker" and first["expect_s"] > 0
    ready = [e for e in lines if e.get("node") == "rabbit" and e["event"] == "ready"]
    assert all(e["boot_s"] > 0 for e in ready)
    assert ("note", "start: already starting") in life
    # The run's own view while it ran: starting during the restart, never killed through the boot.
    assert seen[0] == "ready"  # on_tick runs once the run has started
    assert "killed" in seen and seen[seen.index("killed") + 1] == "starting"
    # After the run: exited, like every other node, and so in summary.json.
    assert sup.states()["rabbit"] == "exited"
    saved = json.loads((sup.run_dir / "summary.json").read_text())
    assert saved["node_states"]["rabbit"]["state"] == "exited"
    assert summary["node_states"]["rabbit"]["state"] == "exited"
    assert summary["node_states"]["rabbit"]["lives"] == 2
    failed = [v for v in summary["expectations"] if not v["passed"]]
    assert not failed, failed
