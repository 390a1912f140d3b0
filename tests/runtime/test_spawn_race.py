"""A node's first telemetry can arrive before the supervisor has recorded the life that sent it.

A loaded machine (or a GUI's on_spawn hook) can hold the spawner thread
between fork and bookkeeping longer than a node takes to start and say
"ready". That "ready" used to be dropped as coming from an unknown pid: the
client read "starting" for the whole run, and with clients started only
once their services are ready, a service's lost "ready" kept them from ever
starting.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from engines.runtime import Supervisor
from engines.topology import topofile

TOPOLOGY = """
version: 1
name: spawn-race
nodes:
  - {name: orders, kind: client, style: notification, transport: zmq, rate: 200, count: 300}
  - {name: billing, kind: service}
links:
  - {from: orders, to: billing}
"""


@pytest.mark.timeout(90)
def test_a_ready_said_before_the_life_is_recorded_is_not_lost(tmp_path: Path) -> None:
    with Supervisor(topofile.loads(TOPOLOGY).topology, tmp_path / "run", ready_timeout_s=30) as sup:
        sup.table.on_spawn = lambda _pid: time.sleep(2.0)  # the node is up and talking meanwhile
        summary = sup.run()
    events = [json.loads(line) for line in (sup.run_dir / "events.jsonl").read_text().splitlines()]
    said = [(e["event"], e.get("node")) for e in events if e["event"] in ("starting", "ready", "done")]
    for node in ("billing", "orders"):
        assert said.index(("starting", node)) < said.index(("ready", node)), said
    assert said.index(("ready", "billing")) < said.index(("starting", "orders"))
    assert ("done", "orders") in said
    assert summary["nodes"]["billing"]["processed"] == 300 and summary["total"]["lost"] == 0


@pytest.mark.timeout(90)
def test_a_done_that_arrives_after_the_exit_is_not_lost(tmp_path: Path) -> None:
    # A loaded supervisor can read a client's exit status before the "done" it sent just before
    # exiting: the run must still say the client finished its work (ready, done, exited).
    with Supervisor(topofile.loads(TOPOLOGY).topology, tmp_path / "run", ready_timeout_s=30) as sup:
        heard = sup.control.on_node_event

        def late(node: str, pid: int, event: str, msg: dict[str, object]) -> None:
            if event == "done":
                time.sleep(1.0)  # the client has exited meanwhile (it exits at once after it)
            heard(node, pid, event, msg)

        sup.control.on_node_event = late  # type: ignore[method-assign]
        summary = sup.run()
    events = [json.loads(line) for line in (sup.run_dir / "events.jsonl").read_text().splitlines()]
    said = [e["event"] for e in events if e.get("node") == "orders" and e["event"] in ("ready", "done", "exited")]
    assert said == ["ready", "done", "exited"], said
    assert summary["node_states"]["orders"]["exit_code"] == 0
    assert summary["nodes"]["billing"]["processed"] == 300
