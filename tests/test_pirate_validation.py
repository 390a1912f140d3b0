"""Pirate queues in the model: what validation refuses, which counters a queue has, the run plan."""

from __future__ import annotations

from engines.runtime.ports import Ports
from engines.runtime.specs import make_plan
from engines.topology import topofile
from engines.topology.model import ClientNode, PirateMode, ServiceNode, Style, Topology, Transport
from engines.topology.problems import Severity
from engines.transports.base import ZMQ_ROUTER, ZMQ_WORKERS


def _topology(client: ClientNode | None = None, **extra: object) -> Topology:
    nodes = [client or ClientNode(name="c"), ServiceNode(name="queue", pirate=PirateMode.PARANOID),
             ServiceNode(name="w1"), ServiceNode(name="w2")]
    links = [{"from": "c", "to": "queue"}, {"from": "queue", "to": "w1"}, {"from": "queue", "to": "w2"}]
    return Topology(name="t", nodes=nodes, links=links, **extra)


def _errors(topology: Topology) -> list[str]:
    return [p.message for p in topofile.check(topology) if p.severity is Severity.ERROR]


def test_zguide_defaults_and_a_valid_queue():
    queue = ServiceNode(name="q")
    assert queue.pirate is None  # an ordinary service unless the file says so
    assert (queue.pirate_heartbeat_ms, queue.pirate_liveness) == (1000, 3)  # HEARTBEAT_INTERVAL, _LIVENESS
    assert (queue.pirate_interval_init_ms, queue.pirate_interval_max_ms) == (1000, 32000)  # INTERVAL_*
    assert _errors(_topology()) == []
    assert _errors(_topology(ClientNode(name="c", style=Style.ASYNC_REQUEST_RESPONSE))) == []


def test_a_queue_takes_zmq_requests_only_and_needs_workers():
    errors = _errors(_topology(ClientNode(name="c", style=Style.NOTIFICATION)))
    assert any("takes zmq requests; client 'c' sends notification over zmq" in e for e in errors), errors
    errors = _errors(_topology(ClientNode(name="c", transport=Transport.HTTP)))
    assert any("client 'c' sends request-response over http" in e for e in errors), errors
    lonely = Topology(name="t", nodes=[ClientNode(name="c"), ServiceNode(name="queue", pirate=PirateMode.SIMPLE)],
                      links=[{"from": "c", "to": "queue"}])
    assert any("has no workers" in e for e in _errors(lonely))


def test_a_worker_has_one_queue_and_a_queue_is_no_worker():
    topology = _topology()
    topology.nodes.append(ClientNode(name="d"))
    topology.links.append(topology.links[0].model_copy(update={"source": "d", "target": "w1"}))
    assert any("works for Pirate queue 'queue' and takes nothing else" in e for e in _errors(topology))


def test_a_queue_has_its_own_counters_only():
    topology = _topology(expectations=["queue.pirate_purged == 0", "w1.pirate_reconnects == 0"])
    assert _errors(topology) == []
    topology = _topology(expectations=["queue.processed == 0"])
    assert any("Pirate queue 'queue' has no counter 'processed'" in e for e in _errors(topology))


def test_the_plan_counts_a_clients_messages_at_the_workers_behind_the_queue(tmp_path):
    topology = _topology()
    plan = make_plan(topology, Ports(), {})
    assert set(plan.listen["queue"]) == {ZMQ_ROUTER, ZMQ_WORKERS}
    assert not plan.listen.get("w1")  # workers connect out to the queue's backend
    assert [p.name for p in plan.peers["c"]] == ["queue"]
    routes = plan.audience["c"]
    assert [(r.service, r.link, r.client_link, r.peer_index) for r in routes] == [
        ("w1", "queue->w1", "c->queue", 0), ("w2", "queue->w2", "c->queue", 1)]
    assert [(i.style, i.listener) for i in plan.inbound["queue"]] == [("pirate-queue", ZMQ_ROUTER)]
    worker = plan.inbound["w2"][0]
    assert worker.style == "pirate-worker" and worker.peer_index == 1
    assert worker.publisher[ZMQ_WORKERS] == plan.listen["queue"][ZMQ_WORKERS]
    assert worker.channel is not None and worker.channel["mode"] == "paranoid" and worker.channel["liveness"] == 3
