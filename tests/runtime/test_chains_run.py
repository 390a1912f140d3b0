"""Service chains against real processes (issue 12): hop-derived IDs, per-hop and end-to-end ledger."""

from __future__ import annotations

import pytest

from engines.topology.model import ClientNode, Link, ServiceNode, Topology
from tests.runtime.conftest import db_rows


def zmq_chain(n_services: int, count: int, rate: float) -> Topology:
    names = [f"s{i}" for i in range(n_services)]
    nodes = [ClientNode(name="shop", style="notification", transport="zmq", rate=rate, count=count)]
    nodes += [ServiceNode(name=n) for n in names]
    links = [Link.model_validate({"from": "shop", "to": names[0]})]
    links += [Link.model_validate({"from": a, "to": b, "style": "notification", "transport": "zmq"})
              for a, b in zip(names, names[1:], strict=False)]
    return Topology(name="zmq-chain", nodes=nodes, links=links)


@pytest.mark.timeout(120)
def test_end_to_end_counts_are_the_sum_over_hops(lab):
    summary, sup = lab.run(zmq_chain(3, 2000, 1000))
    chain = summary["chains"]["shop"]
    stages = chain["stages"]
    assert [s["link"] for s in stages] == ["s0->s1", "s1->s2"]
    assert chain["entered"] == summary["nodes"]["s0"]["processed"] == 2000
    assert chain["e2e_lost"] == sum(s["hop_lost"] for s in stages) == 0
    assert chain["e2e_duplicates"] == sum(s["duplicates_processed"] + s["duplicates_suppressed"]
                                          for s in stages)
    for stage in stages:  # each hop's own ledger agrees with the chain's
        link = summary["links"][stage["link"]]
        assert link["sent"] == link["processed"] == stage["reached"] == 2000
    # the downstream ID keeps the origin's sequence number under the hop sender's index
    index = sup.plan.clients["s1->s2@shop"]
    assert db_rows(sup, "s2", f"SELECT count(*) FROM authorisations WHERE message_id >> 32 = {index}") == 2000
    assert db_rows(sup, "s2", "SELECT max(message_id & 4294967295) FROM authorisations") == 1999


@pytest.mark.timeout(180)
def test_a_five_service_chain_at_full_rate_stays_exact(lab):
    summary, _ = lab.run(zmq_chain(5, 20000, 0))
    chain = summary["chains"]["shop"]
    assert summary["total"]["lost"] == 0
    assert chain["entered"] == chain["e2e_reached"] == 20000
    assert [s["reached"] for s in chain["stages"]] == [20000] * 4
    assert all(s["hop_lost"] == 0 and s["duplicates_processed"] == 0 for s in chain["stages"])
    assert summary["nodes"]["s4"]["processed"] == 20000


@pytest.mark.timeout(120)
def test_a_retried_http_call_makes_the_same_downstream_id(lab):
    """The client retries after its timeout; order calls payment again with the same downstream ID,
    and payment's idempotent consumer refuses it instead of charging twice."""
    topo = Topology(
        name="http-retry-chain",
        nodes=[ClientNode(name="shop", transport="http", rate=50, count=25, timeout_ms=100, retries=3),
               ServiceNode(name="order"), ServiceNode(name="payment", processing_ms=150)],
        links=[Link.model_validate({"from": "shop", "to": "order"}),
               Link.model_validate({"from": "order", "to": "payment", "timeout_ms": 1000})],
    )
    summary, _ = lab.run(topo)
    pay = summary["links"]["order->payment"]
    assert summary["nodes"]["shop"]["retries"] > 0
    assert pay["duplicates_suppressed"] > 0
    assert pay["duplicates_processed"] == 0
    assert summary["chains"]["shop"]["stages"][0]["duplicates_suppressed"] == pay["duplicates_suppressed"]


@pytest.mark.timeout(120)
def test_fan_in_two_services_feed_one_and_each_origin_is_followed(lab):
    """Two chains meet at one service; its ledger keeps each origin apart (one hop sender each)."""
    topo = Topology(
        name="fan-in",
        nodes=[ClientNode(name="web", style="notification", transport="zmq", rate=500, count=600),
               ClientNode(name="app", style="notification", transport="zmq", rate=500, count=400),
               ServiceNode(name="orders-web"), ServiceNode(name="orders-app"), ServiceNode(name="billing")],
        links=[Link.model_validate({"from": "web", "to": "orders-web"}),
               Link.model_validate({"from": "app", "to": "orders-app"}),
               Link.model_validate({"from": "orders-web", "to": "billing", "style": "notification"}),
               Link.model_validate({"from": "orders-app", "to": "billing", "style": "notification"})],
    )
    summary, sup = lab.run(topo)
    assert summary["nodes"]["billing"]["processed"] == 1000
    assert summary["chains"]["web"]["e2e_reached"] == 600 and summary["chains"]["web"]["e2e_lost"] == 0
    assert summary["chains"]["app"]["e2e_reached"] == 400 and summary["chains"]["app"]["e2e_lost"] == 0
    assert summary["links"]["orders-web->billing"]["processed"] == 600
    assert summary["links"]["orders-app->billing"]["processed"] == 400
    assert summary["total"]["e2e_reached"] == 1000


@pytest.mark.timeout(120)
def test_a_killed_middle_service_is_said_and_the_chain_still_adds_up(lab):
    from engines.topology.model import Action, Step

    topo = zmq_chain(3, 3000, 1000)
    topo.scenario = [Step(action=Action.KILL, target="s1", at_s=1.0),
                     Step(action=Action.START, target="s1", at_s=1.5)]
    summary, _ = lab.run(topo)
    assert "s1->s2@shop" in summary["bounds"]["clients"]  # its sender-side counts are lower bounds
    chain = summary["chains"]["shop"]
    assert chain["e2e_lost"] == sum(s["hop_lost"] for s in chain["stages"])  # no orphans over zmq
    assert chain["e2e_reached"] == summary["nodes"]["s2"]["processed"]
