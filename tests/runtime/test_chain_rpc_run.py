"""Calls over zmq inside the handling, from services fed over http, zmq (real processes; issue 12).

The end-to-end ledger equals the sum over hops where nothing is killed, a
five-service chain of zmq calls at full rate stays exact, a retried upstream
request makes the same downstream ID (refused downstream), and a failed call
is answered as failed: nothing is committed at the caller.
"""

from __future__ import annotations

import pytest

from engines.topology import topofile
from engines.topology.model import ClientNode, Link, ServiceNode, Topology
from tests.runtime.conftest import db_rows


def call_chain(n_services: int, count: int, rate: float, styles: list[str], **client: object) -> Topology:
    """shop -(zmq DEALER)-> s0 -(zmq call)-> s1 ... with each hop's call style from `styles`."""
    names = [f"s{i}" for i in range(n_services)]
    settings: dict[str, object] = {"style": "async-request-response", "transport": "zmq", "rate": rate,
                                   "count": count, "timeout_ms": 20000, "retries": 2, "in_flight": 64}
    settings.update(client)
    nodes: list[ClientNode | ServiceNode] = [ClientNode(name="shop", **settings)]  # type: ignore[arg-type]
    nodes += [ServiceNode(name=n) for n in names]
    links = [Link.model_validate({"from": "shop", "to": names[0]})]
    links += [Link.model_validate({"from": a, "to": b, "transport": "zmq", "style": style,
                                   "timeout_ms": 10000, "retries": 1})
              for a, b, style in zip(names, names[1:], styles, strict=False)]
    return Topology(name="zmq-call-chain", nodes=nodes, links=links)


@pytest.mark.timeout(150)
def test_end_to_end_counts_are_the_sum_over_zmq_call_hops(lab):
    summary, sup = lab.run(call_chain(3, 1500, 500, ["request-response", "async-request-response"]))
    chain = summary["chains"]["shop"]
    stages = chain["stages"]
    assert [s["link"] for s in stages] == ["s0->s1", "s1->s2"]
    assert summary["total"]["lost"] == 0
    assert chain["entered"] == summary["nodes"]["s0"]["processed"] == 1500
    assert chain["e2e_reached"] == 1500
    assert chain["e2e_lost"] == sum(s["hop_lost"] for s in stages) == 0
    assert chain["e2e_duplicates"] == sum(s["duplicates_processed"] + s["duplicates_suppressed"]
                                          for s in stages)
    for stage in stages:  # each call hop's own ledger agrees with the chain's: every call answered
        link = summary["links"][stage["link"]]
        assert link["sent"] == link["acknowledged"] == link["processed"] == stage["reached"] == 1500
    # the downstream ID keeps the origin's sequence number under the hop sender's index
    index = sup.plan.clients["s1->s2@shop"]
    assert db_rows(sup, "s2", f"SELECT count(*) FROM authorisations WHERE message_id >> 32 = {index}") == 1500
    assert db_rows(sup, "s2", "SELECT max(message_id & 4294967295) FROM authorisations") == 1499


@pytest.mark.timeout(240)
def test_a_five_service_chain_of_zmq_calls_at_full_rate_stays_exact(lab):
    summary, _ = lab.run(call_chain(5, 6000, 0, ["async-request-response"] * 4, in_flight=200))
    chain = summary["chains"]["shop"]
    assert summary["total"]["lost"] == 0
    assert summary["nodes"]["shop"]["acknowledged"] == 6000
    assert chain["entered"] == chain["e2e_reached"] == 6000
    assert [s["reached"] for s in chain["stages"]] == [6000] * 4
    assert all(s["hop_lost"] == 0 and s["duplicates_processed"] == 0 and s["orphans"] == 0
               for s in chain["stages"])
    for stage in chain["stages"]:  # what each hop's caller recorded agrees with what its target committed
        link = summary["links"][stage["link"]]
        assert link["acknowledged"] == link["processed"] == 6000
    assert summary["nodes"]["s4"]["processed"] == 6000


@pytest.mark.timeout(120)
def test_a_retried_zmq_request_makes_the_same_downstream_id(lab):
    """The Lazy Pirate client gives up waiting after 100 ms and resends; order (fed by a ROUTER) calls
    payment again with the same downstream ID, and payment refuses it instead of charging twice."""
    topo = Topology(
        name="zmq-retry-chain",
        nodes=[ClientNode(name="shop", style="request-response", transport="zmq", rate=50, count=60,
                          timeout_ms=100, retries=5),
               ServiceNode(name="order"), ServiceNode(name="payment", processing_ms=150)],
        links=[Link.model_validate({"from": "shop", "to": "order"}),
               Link.model_validate({"from": "order", "to": "payment", "transport": "zmq",
                                    "timeout_ms": 2000})],
    )
    summary, sup = lab.run(topo)
    pay = summary["links"]["order->payment"]
    assert summary["nodes"]["shop"]["retries"] > 0
    assert pay["duplicates_suppressed"] > 0
    assert pay["duplicates_processed"] == 0
    assert summary["chains"]["shop"]["stages"][0]["duplicates_suppressed"] == pay["duplicates_suppressed"]
    hop = sup.plan.clients["order->payment@shop"]
    # every refused duplicate at payment carries the ID of an order payment already has
    assert db_rows(sup, "payment", f"SELECT count(*) FROM refused_duplicates WHERE message_id >> 32 = {hop} "
                   "AND message_id NOT IN (SELECT message_id FROM authorisations)") == 0
    assert db_rows(sup, "payment", "SELECT count(*) FROM refused_duplicates") == pay["duplicates_suppressed"]


COMBO = """
version: 1
name: combo
nodes:
  - {{name: shop, kind: client, {client}, rate: 200, count: 200, timeout_ms: 10000, retries: 2}}
  - {{name: order, kind: service}}
  - {{name: payment, kind: service}}
links:
  - {{from: shop, to: order}}
  - {{from: order, to: payment, {call}, timeout_ms: 5000}}
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("client", "call"), [
    ("style: request-response, transport: http", "transport: zmq, style: request-response"),
    ("style: async-request-response, transport: http", "transport: zmq, style: async-request-response"),
    ("style: notification, transport: zmq", "transport: http, style: async-request-response"),
    ("style: publish-subscribe, transport: zmq", "transport: zmq, style: request-response"),
    ("style: request-response, transport: zmq", "transport: http, style: request-response"),
], ids=["http->zmq-req", "http->zmq-dealer", "zmq-push->http-async", "zmq-pub->zmq-req", "zmq-req->http"])
def test_every_feed_calls_downstream_and_answers_after_the_call(lab, client, call):
    summary, _ = lab.run(topofile.loads(COMBO.format(client=client, call=call)).topology)
    chain = summary["chains"]["shop"]
    assert summary["total"]["lost"] == 0
    assert chain["entered"] == chain["e2e_reached"] == 200
    assert summary["links"]["order->payment"]["acknowledged"] == 200
    assert summary["nodes"]["payment"]["duplicates_processed"] == 0


@pytest.mark.timeout(120)
def test_a_failed_zmq_call_commits_nothing_and_answers_nothing(lab):
    """payment is never up (paused from the start): order's calls time out, order commits none of
    those orders and answers none, so the client times out; nothing is reached downstream."""
    text = COMBO.format(client="style: async-request-response, transport: zmq",
                        call="transport: zmq, style: async-request-response").replace(
        "count: 200, timeout_ms: 10000, retries: 2", "count: 30, timeout_ms: 600, retries: 0").replace(
        "timeout_ms: 5000", "timeout_ms: 300") + "scenario:\n  - {action: pause, target: payment, at_s: 0}\n" \
        "  - {action: resume, target: payment, at_s: 6}\n"
    summary, sup = lab.run(topofile.loads(text).topology)
    shop = summary["nodes"]["shop"]
    link = summary["links"]["order->payment"]
    assert link["timeouts"] > 0
    assert shop["timeouts"] > 0
    # no call answered in time, so order committed nothing and answered nothing
    assert db_rows(sup, "order", "SELECT count(*) FROM authorisations") == 0
    assert summary["nodes"]["order"]["processed"] == 0
    assert shop["acknowledged"] == 0


BREAKER = """
version: 1
name: zmq-breaker
nodes:
  - {name: shop, kind: client, style: request-response, transport: http, rate: 100, count: 500,
     timeout_ms: 3000, retries: 0}
  - {name: order, kind: service}
  - {name: payment, kind: service}
links:
  - {from: shop, to: order}
  - {from: order, to: payment, transport: zmq, style: async-request-response, timeout_ms: 200,
     max_concurrent: 4, breaker_failures: 3, breaker_open_ms: 500}
scenario:
  - {action: pause, target: payment, at_s: 1}
  - {action: resume, target: payment, at_s: 2.5}
"""


@pytest.mark.timeout(120)
def test_a_zmq_call_has_the_breaker_and_bulkhead_of_an_http_call(lab):
    """payment paused: order's zmq calls time out, the breaker opens and short-circuits the next
    calls, then half-opens and closes once payment is back; the counters are the http calls'."""
    summary, sup = lab.run(topofile.loads(BREAKER).topology)
    link = summary["links"]["order->payment"]
    assert link["breaker_open"] >= 1
    assert link["short_circuited"] > 0
    assert link["breaker_closed"] >= 1  # recovered when payment returned
    assert 1 <= link["calls_in_flight_peak"] <= 4  # the bulkhead's limit
    changes = [e for e in sup.events.since(0) if e["event"] == "breaker" and e.get("node") == "order"]
    assert [e["state"] for e in changes][:2] == ["open", "half-open"]
    # every order that reached payment's database came from a call that answered, or was orphaned
    chain = summary["chains"]["shop"]
    assert chain["e2e_reached"] > 0 and chain["stages"][0]["hop_lost"] == 0
