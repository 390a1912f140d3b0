"""Validation knows which counters each node kind and link has, and agrees with a real run's summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.runtime import Supervisor
from engines.topology import counter_scopes, topofile
from engines.topology.problems import TopologyError

MIXED = """
version: 1
name: scopes
nodes:
  - {name: shop, kind: client, style: request-response, transport: http, rate: 0, count: 100}
  - {name: events, kind: client, style: notification, transport: zmq, rate: 0, count: 100}
  - {name: news, kind: client, style: publish-subscribe, transport: zmq, rate: 200, count: 100}
  - {name: inventory, kind: service}
  - {name: worker, kind: service}
  - {name: reader1, kind: service}
  - {name: reader2, kind: service}
links:
  - {from: shop, to: inventory}
  - {from: events, to: worker}
  - {from: news, to: reader1}
  - {from: news, to: reader2}
"""


def _refused(expectation: str) -> list[str]:
    text = MIXED + f"expectations:\n  - {expectation}\n"
    try:
        topofile.loads(text, "scopes.topo.yaml")
    except TopologyError as exc:
        return [str(p) for p in exc.problems]
    return []


@pytest.mark.parametrize(("expectation", "says"), [
    ("inventory.errors == 0", "service 'inventory' has no counter 'errors'"),
    ("inventory.errors == 0", "did you mean 'shop.errors'?"),
    ("worker.timeouts == 0", "did you mean 'events.timeouts'?"),
    ("shop->inventory.p99_latency_ms < 5", "link from a client 'shop->inventory' has no counter"),
    ("abs(inventory.processed - worker.retries) <= 2", "service 'worker' has no counter 'retries'"),
])
def test_counters_a_scope_does_not_have_are_refused_with_a_suggestion(expectation: str, says: str) -> None:
    problems = _refused(expectation)
    assert any(says in p and "scopes.topo.yaml:" in p for p in problems), problems


@pytest.mark.parametrize("expectation", [
    "shop.errors == 0", "inventory.processed == shop.processed", "reader1.sent == 100",
    "news->reader2.lost == 0", "shop->inventory.timeouts == 0", "worker.hostile == 0",
    "100 <= events.throughput", "lost == sent - processed",
])
def test_counters_a_scope_has_are_accepted(expectation: str) -> None:
    assert _refused(expectation) == []


def test_a_broker_has_no_counters_of_its_own() -> None:
    text = """version: 1
name: brokered
nodes:
  - {name: orders, kind: client, style: notification, transport: amqp, count: 10}
  - {name: rabbit, kind: broker}
  - {name: billing, kind: service}
links:
  - {from: orders, to: rabbit, channel: orders}
  - {from: rabbit, to: billing}
expectations:
  - rabbit.lost == 0
"""
    with pytest.raises(TopologyError) as info:
        topofile.loads(text, "b.topo.yaml")
    assert any("broker 'rabbit' has no counters of its own" in str(p) and "orders->rabbit.lost" in str(p)
               for p in info.value.problems)


@pytest.mark.timeout(90)
def test_every_counter_validation_allows_is_in_a_real_summary(tmp_path: Path) -> None:
    topology = topofile.loads(MIXED).topology
    with Supervisor(topology, tmp_path / "run") as sup:
        summary = sup.run()
    for scope in [n.name for n in topology.nodes] + [lk.key for lk in topology.links]:
        kind, allowed = counter_scopes.counters_of(topology, scope)  # type: ignore[misc]
        table = summary["nodes"].get(scope) if topology.has_node(scope) else summary["links"].get(scope)
        assert table is not None, scope
        missing = [c for c in allowed if c not in table]
        assert not missing, f"{kind} '{scope}': validation allows {missing}, the summary lacks them"
