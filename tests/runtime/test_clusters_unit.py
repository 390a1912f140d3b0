"""The run's view of a cluster's members (engines.runtime.clusters), with a fake cluster handle."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from engines.runtime.clusters import Clusters
from engines.runtime.control import Control
from engines.runtime.events import EventLog
from engines.runtime.proctable import ProcessTable
from engines.topology import topofile
from tests.conftest import ROOT


class FakeMember:
    def __init__(self) -> None:
        self.state = SimpleNamespace(value="running")

    def pids(self) -> list[int]:
        return []


class FakeCluster:
    """What Clusters uses of engines.brokers.ClusterBroker."""

    def __init__(self) -> None:
        self.members = [FakeMember() for _ in range(3)]
        self.down_since: dict[str, float] = {}
        self.boot_s = 12.0
        self.ticks: list[Any] = []

    def member_names(self) -> list[str]:
        return [f"rabbit/{i}" for i in (1, 2, 3)]

    def member_handle(self, index: int) -> FakeMember:
        return self.members[index - 1]

    def leader_monitor(self, sink: Any, on_tick: Any = None) -> Any:
        self.ticks.append(on_tick)
        return SimpleNamespace(stop=lambda: None, changes=[], samples=0, misses=0, last_error="",
                               queues=lambda: {})


def test_members_are_run_nodes_and_an_unasked_death_is_a_crash(tmp_path: Path) -> None:
    topo = topofile.load(ROOT / "topologies" / "22-cluster-quorum-leader-killed.topo.yaml").topology
    events = EventLog(None)
    control = Control(topo, ProcessTable(tmp_path / "pids.json"), events, 5.0, 30.0)
    clusters = Clusters(control, events, tmp_path)
    fake = FakeCluster()
    clusters.add("rabbit", fake)
    assert control.states()["rabbit/2"] == "ready" and control.is_broker("rabbit/2")

    fake.down_since["rabbit/1"] = 1.0  # the lab killed it: not a crash
    fake.members[0].state.value = "killed"
    fake.members[1].state.value = "killed"  # beam.smp died by itself
    fake.ticks[0]()
    states = control.states()
    assert states["rabbit/1"] == "ready"  # the kill's own event sets "killed" (Control)
    assert states["rabbit/2"] == "crashed" and states["rabbit/3"] == "ready"
    assert [e["node"] for e in events.since(0) if e["event"] == "crashed"] == ["rabbit/2"]
    report = clusters.report()["rabbit"]
    assert report["members"]["rabbit/2"]["state"] == "crashed"
    assert [e["event"] for e in report["members"]["rabbit/2"]["events"]] == ["ready", "crashed"]
    assert clusters.drain_quiet_s(1.0) == 10.0
    control.spawner.shutdown()
