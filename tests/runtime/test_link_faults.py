"""Link faults through the lab's proxies, against real node processes."""

from __future__ import annotations

import json

import pytest

from engines.topology.model import Action, ClientNode, Link, ServiceNode, Step, Topology
from engines.topology.vocabulary import Style, Transport

pytestmark = pytest.mark.timeout(90)


def _rpc(name: str, transport: Transport = Transport.ZMQ, count: int = 300, rate: float = 100,
         timeout_ms: int = 300, retries: int = 20) -> tuple[ClientNode, ServiceNode, Link]:
    client = ClientNode(name=f"{name}-client", style=Style.REQUEST_RESPONSE, transport=transport,
                        rate=rate, count=count, timeout_ms=timeout_ms, retries=retries)
    service = ServiceNode(name=f"{name}-svc")
    return client, service, Link(**{"from": client.name, "to": service.name})


def test_cut_for_two_seconds_then_heal_gives_timeouts_retries_then_recovery(lab):
    client, service, link = _rpc("pricing")
    topo = Topology(name="cut", nodes=[client, service], links=[link], scenario=[
        Step(action=Action.CUT, target=link.key, at_s=1.0),
        Step(action=Action.HEAL, target=link.key, at_s=3.0),
    ])
    summary, sup = lab.run(topo)
    total = summary["total"]
    assert total["timeouts"] > 0 and total["retries"] > 0
    assert total["acknowledged"] == total["sent"] == 300  # recovered: every request answered
    assert total["lost"] == 0 and total["duplicates_processed"] == 0
    kinds = [e["event"] for e in sup.events.since(0) if e.get("link") == link.key]
    assert kinds.count("cut") == 1 and kinds.count("heal") == 1


def test_latency_of_100ms_raises_p50_by_at_least_100ms(lab):
    slow_c, slow_s, slow_link = _rpc("slow", transport=Transport.HTTP, count=40, rate=20,
                                     timeout_ms=2000, retries=0)
    fast_c, fast_s, fast_link = _rpc("fast", transport=Transport.HTTP, count=40, rate=20,
                                     timeout_ms=2000, retries=0)
    topo = Topology(name="delay", nodes=[slow_c, slow_s, fast_c, fast_s], links=[slow_link, fast_link],
                    scenario=[Step(action=Action.DELAY, target=slow_link.key, at_s=0, latency_ms=100)])
    summary, _ = lab.run(topo)
    slow = summary["nodes"][slow_c.name]["p50_latency_ms"]
    fast = summary["nodes"][fast_c.name]["p50_latency_ms"]
    assert slow >= fast + 100, (slow, fast)
    assert summary["total"]["lost"] == 0


def test_only_faulted_links_are_proxied(lab):
    a_c, a_s, a_link = _rpc("a", count=20, rate=50)
    b_c, b_s, b_link = _rpc("b", count=20, rate=50)
    topo = Topology(name="proxied", nodes=[a_c, a_s, b_c, b_s], links=[a_link, b_link],
                    scenario=[Step(action=Action.DELAY, target=a_link.key, at_s=0, latency_ms=5)])
    _, sup = lab.run(topo)

    def spec(name: str) -> dict:
        return json.loads((sup.table.nodes[name].node_dir / "spec.json").read_text())

    a_peer = spec(a_c.name)["peers"][0]["endpoints"]
    b_peer = spec(b_c.name)["peers"][0]["endpoints"]
    a_listen = set(spec(a_s.name)["listen"].values())
    b_listen = set(spec(b_s.name)["listen"].values())
    assert set(b_peer.values()) <= b_listen  # no fault: the client talks to the service itself
    assert not set(a_peer.values()) & a_listen  # faulted: it talks to the proxy
    assert list(sup.link_faults.proxies) == [a_link.key]
