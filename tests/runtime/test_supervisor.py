"""The supervisor as a GUI would drive it: control from another thread, states, events,
scenario steps, the broker seam; and nothing left running."""

from __future__ import annotations

import sys
import time
import types

import pytest

from engines import transports
from engines.runtime import RunError, Supervisor
from engines.topology.model import Action, BrokerNode, ClientNode, ServiceNode, Step, Topology
from tests.runtime.conftest import assert_no_node_left, events, example


def _wait(predicate, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _async_topology(count: int = 800) -> Topology:
    return Topology(
        name="async-control",
        nodes=[ClientNode(name="asker", style="async-request-response", transport="zmq", rate=200,
                          count=count, timeout_ms=500, retries=10, in_flight=20),
               ServiceNode(name="answerer")],
        links=[{"from": "asker", "to": "answerer"}],
    )


@pytest.mark.timeout(90)
def test_control_from_another_thread_while_it_runs(tmp_path):
    sup = Supervisor(_async_topology(), tmp_path / "run")
    try:
        sup.start_async().result(timeout=30)
        assert sup.states()["answerer"] == "ready"
        _wait(lambda: sup.sent_total() > 100)
        sup.pause("answerer")
        assert sup.states()["answerer"] == "paused"
        time.sleep(0.6)
        sup.resume("answerer")
        assert sup.states()["answerer"] == "ready"
        sup.restart("answerer").result(timeout=20)
        _wait(lambda: sup.states()["answerer"] == "ready")
        _wait(lambda: sup.states()["asker"] == "exited", timeout_s=60)
        sup.finish_async().result(timeout=60)
        t, acked = sup.metrics.series("asker", "acknowledged")
        assert len(t) > 10 and acked[-1] == 800 and (acked[1:] >= acked[:-1]).all()
        lt, delivered = sup.metrics.link_series("asker->answerer")
        assert len(lt) > 10 and delivered[-1] >= 800 and (delivered[1:] >= delivered[:-1]).all()
        with pytest.raises(RunError, match="already started"):
            sup.start()
        from engines.runtime.summary import build_summary
        summary = build_summary(sup)
    finally:
        sup.close()
    node = summary["nodes"]["asker"]
    assert node["sent"] == node["acknowledged"] == 800 and node["timeouts"] > 0
    assert summary["nodes"]["answerer"]["duplicates_processed"] == 0
    assert summary["node_states"]["answerer"]["lives"] == 2
    kinds = [e["event"] for e in sup.events.since(0) if e.get("node") == "answerer"]
    assert kinds[:4] == ["starting", "ready", "paused", "ready"]
    assert "stop" in kinds and kinds.count("starting") == 2
    assert_no_node_left()


@pytest.mark.timeout(90)
def test_killed_client_restarted_resumes_and_is_flagged(lab):
    topo = _async_topology(count=600)
    topo.scenario = [Step(action=Action.KILL, target="asker", at_s=1.0),
                     Step(action=Action.START, target="asker", at_s=1.5)]
    summary, sup = lab.run(topo)
    node = summary["nodes"]["asker"]
    assert node["sent"] == 600 and node["lost"] == 0
    # what was in flight when it died is never resent by the new life: in doubt, not lost
    assert node["processed"] + node["in_doubt"] == 600 and node["in_doubt"] <= 20
    assert summary["node_states"]["asker"]["lives"] == 2
    assert summary["bounds"]["clients"] == ["asker"]
    assert "resuming at sequence" in sup.table.nodes["asker"].log_path.read_text()


@pytest.mark.timeout(90)
def test_after_messages_step_and_link_actions(lab):
    topo = example("06")
    topo.node("events").count = 3000
    topo.scenario = [Step(action=Action.KILL, target="worker-b", after_messages=1000),
                     Step(action=Action.CUT, target="events->worker-a", at_s=0.5),
                     Step(action=Action.HEAL, target="events->worker-a", at_s=1.5)]
    summary, sup = lab.run(topo)
    fired = events(sup, "scenario", "worker-b")
    assert fired and summary["node_states"]["worker-b"]["state"] == "killed"
    on_link = [e["event"] for e in sup.events.since(0) if e.get("link") == "events->worker-a"]
    assert on_link.count("cut") == 1 and on_link.count("heal") == 1
    assert summary["nodes"]["events"]["sent"] == 3000


class _FakeBroker:
    """A broker handle that records what the supervisor asks of it."""

    calls: list[tuple[str, float]] = []

    def __init__(self, node: BrokerNode, run_dir) -> None:
        self.name, self.url = node.name, "amqp://lab:secret@127.0.0.1:5999/"

    def _note(self, what: str) -> None:
        _FakeBroker.calls.append((what, time.time()))

    def start(self, timeout: float) -> None:
        self._note("start")

    def stop(self, timeout: float, run_ended: bool = False) -> None:
        self._note("stop")

    def close(self) -> None:
        self._note("close")

    def kill(self) -> None:
        self._note("kill")

    def restart(self, timeout: float) -> None:
        self._note("restart")

    def pause(self) -> None:
        self._note("pause")

    def resume(self) -> None:
        self._note("resume")

    def pids(self) -> list[int]:
        return []


class _NoQueueDepths:
    def __init__(self, *args: object, **kw: object) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def fake_brokers(monkeypatch):
    module = types.ModuleType("engines.brokers")
    module.open_broker = _FakeBroker  # type: ignore[attr-defined]
    module.QueueDepthMonitor = _NoQueueDepths  # type: ignore[attr-defined]
    plan = types.ModuleType("engines.brokers.plan")  # what the runtime asks the broker engine
    plan.queue_names = lambda topology: []  # type: ignore[attr-defined]
    plan.link_specs = lambda topology: {}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "engines.brokers", module)
    monkeypatch.setitem(sys.modules, "engines.brokers.plan", plan)
    _FakeBroker.calls = []
    return _FakeBroker.calls


@pytest.mark.timeout(60)
def test_brokers_start_first_and_stop_last(lab, fake_brokers):
    topo = Topology(
        name="with-broker",
        nodes=[ClientNode(name="c", transport="http", rate=100, count=50), ServiceNode(name="s"),
               BrokerNode(name="rabbit")],
        links=[{"from": "c", "to": "s"}],
    )
    summary, sup = lab.run(topo)
    assert summary["total"]["processed"] == 50
    sup.close()
    names = [what for what, _ in fake_brokers]
    assert names == ["start", "stop", "close"]
    when = dict(fake_brokers)
    assert when["start"] <= min(e["wall"] for e in events(sup, "starting") if e.get("role") != "broker"), \
        "broker first"
    assert when["stop"] >= events(sup, "exited", "s")[0]["wall"], "broker last"
    assert events(sup, "ready", "rabbit")


@pytest.mark.timeout(30)
def test_missing_amqp_driver_is_refused_before_any_process(tmp_path, fake_brokers, monkeypatch):
    registry = {k: v for k, v in transports.drivers().items() if k[0] != "amqp"}
    monkeypatch.setattr(transports, "_REGISTRY", registry)  # as where pika is not installed
    sup = Supervisor(example("03"), tmp_path / "run")
    try:
        with pytest.raises(RunError, match="no client driver"):
            sup.start()
    finally:
        sup.close()
    assert fake_brokers == [] and not any(p.pids for p in sup.table.nodes.values())
