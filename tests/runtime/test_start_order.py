"""Start order: a client starts as soon as the services it reaches are ready, not after every service."""

from __future__ import annotations

import os
import signal
import time

import pytest

from engines.runtime import Supervisor, startorder
from engines.runtime.proctable import NodeProcess, ProcessTable
from engines.runtime.summary import build_summary
from engines.topology.model import ClientNode, ServiceNode, Topology
from tests.runtime.conftest import assert_no_node_left, example


def _pairs() -> Topology:
    nodes: list[ClientNode | ServiceNode] = []
    links = []
    for i in (1, 2):
        nodes += [ClientNode(name=f"c{i}", style="notification", transport="zmq", rate=200, count=100),
                  ServiceNode(name=f"s{i}", idempotent=True)]
        links.append({"from": f"c{i}", "to": f"s{i}"})
    return Topology(name="two-pairs", nodes=nodes, links=links)


def test_a_client_needs_every_service_it_reaches_and_no_other():
    needs = startorder.needs(_pairs())
    assert needs == {"c1": {"s1"}, "c2": {"s2"}}
    assert startorder.startable(["c1", "c2"], needs, {"s2"}) == ["c2"]


def test_through_a_broker_and_down_a_chain_the_client_waits_for_all_it_reaches():
    brokered = startorder.needs(example("07"))  # clients, a broker, its consumers
    for client, services in brokered.items():
        assert services, f"{client} reaches no service"
    chain = Topology(name="chain", nodes=[
        ClientNode(name="c", style="request-response", transport="zmq", count=1),
        ServiceNode(name="front"), ServiceNode(name="back"), ServiceNode(name="other")],
        links=[{"from": "c", "to": "front"}, {"from": "front", "to": "back"}])
    assert startorder.needs(chain) == {"c": {"front", "back"}}


@pytest.mark.timeout(120)
def test_a_client_runs_while_another_clients_service_is_still_starting(tmp_path, monkeypatch):
    """s2 is frozen (SIGSTOP) the instant it is spawned, so it cannot report ready: c1 must still
    start and send everything; c2 starts once s2 is let go; both runs are exact."""
    frozen: list[int] = []
    spawn = ProcessTable.spawn

    def spawn_and_freeze_s2(self: ProcessTable, node: NodeProcess) -> None:
        spawn(self, node)
        if node.name == "s2" and not frozen:
            assert node.pid is not None
            os.kill(node.pid, signal.SIGSTOP)  # long before its interpreter could import anything
            frozen.append(node.pid)

    monkeypatch.setattr(ProcessTable, "spawn", spawn_and_freeze_s2)
    sup = Supervisor(_pairs(), tmp_path / "run", ready_timeout_s=90)
    try:
        started = sup.start_async()
        deadline = time.monotonic() + 60
        while not (sup.states()["c1"] in ("ready", "exited") and sup.sent_total() >= 100):
            assert time.monotonic() < deadline, f"c1 never ran while s2 was starting: {sup.states()}"
            time.sleep(0.05)
        assert sup.states()["s2"] == "starting" and sup.states()["c2"] == "idle"
        assert not started.done()
        os.kill(frozen[0], signal.SIGCONT)
        started.result(timeout=60)
        deadline = time.monotonic() + 60
        while not all(sup.client_finished(c) for c in ("c1", "c2")):
            assert time.monotonic() < deadline, sup.states()
            time.sleep(0.05)
        sup.finish()
        summary = build_summary(sup)
    finally:
        sup.close()
    for client, service in (("c1", "s1"), ("c2", "s2")):
        node = summary["nodes"][client]
        assert node["sent"] == node["processed"] == 100 and node["lost"] == 0, node
        assert summary["nodes"][service]["duplicates_processed"] == 0
    kinds = [(e["event"], e.get("node")) for e in sup.events.since(0)]
    assert kinds.index(("run-started", None)) < kinds.index(("ready", "s2"))
    assert_no_node_left()
