"""Calls over amqp RPC inside the handling, and calls from services fed over amqp (issue 12), on a real broker."""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from engines.topology import topofile
from engines.topology.model import Crash, CrashPoint, Topology
from tests.brokers.conftest import isolate

pytestmark = pytest.mark.rabbitmq

FLOW = """
version: 1
name: rpc-redelivery-at-hop-1
nodes:
  - {name: shop, kind: client, style: notification, transport: amqp, rate: 200, count: 400}
  - {name: rabbit, kind: broker}
  - {name: order, kind: service, idempotent: false, restart_on_crash: true}
  - {name: payment, kind: service}
links:
  - {from: shop, to: rabbit, channel: orders}
  - {from: rabbit, to: order, channel: orders}
  - {from: order, to: rabbit, channel: payments, style: request-response, timeout_ms: 3000}
  - {from: rabbit, to: payment, channel: payments}
"""


def seqs(sup, service: str, sql: str) -> set[int]:
    db = sqlite3.connect(sup.table.nodes[service].node_dir / "service.db")
    try:
        return {row[0] for row in db.execute(sql)}
    finally:
        db.close()


@pytest.mark.timeout(150)
def test_a_redelivery_at_hop_1_calls_again_with_the_same_id_and_is_refused(lab, shared_broker):
    """order (naive, fed from a queue) calls payment over amqp RPC, commits, and crashes before its
    ack: RabbitMQ redelivers, order calls payment again under the same derived ID, and payment's
    PROCESSED_MESSAGES refuses it while order (naive) applies the order twice."""
    topo: Topology = topofile.loads(FLOW).topology
    topo.node("order").crash = Crash(after=100, point=CrashPoint.AFTER_COMMIT)  # type: ignore[union-attr]
    topo = isolate(topo, shared_broker.url, uuid.uuid4().hex[:8])
    summary, sup = lab.run(topo)
    assert summary["links"]["rabbit->order"]["redelivered"] > 0
    doubled = summary["nodes"]["order"]["duplicates_processed"]
    assert doubled >= 1
    pay = summary["links"]["order->rabbit"]
    assert pay["duplicates_suppressed"] >= doubled
    assert pay["duplicates_processed"] == 0
    assert summary["chains"]["shop"]["e2e_reached"] == 400
    hop = sup.plan.clients["order->rabbit@shop"]
    twice = seqs(sup, "order", "SELECT message_id & 4294967295 FROM authorisations "
                 "GROUP BY message_id HAVING count(*) > 1")
    refused = seqs(sup, "payment", "SELECT message_id & 4294967295 FROM refused_duplicates "
                   f"WHERE message_id >> 32 = {hop}")
    assert len(twice) == doubled and twice <= refused


COMBO = """
version: 1
name: combo
nodes:
  - {{name: shop, kind: client, {client}, rate: 200, count: 200, timeout_ms: 10000, retries: 2}}
  - {{name: rabbit, kind: broker}}
  - {{name: order, kind: service, handler_thread: true}}
  - {{name: payment, kind: service}}
links:
{links}
"""
INTO_RABBIT = "  - {from: shop, to: rabbit, channel: orders}\n  - {from: rabbit, to: order, channel: orders}\n"
INTO_DIRECT = "  - {from: shop, to: order}\n"
RPC_OUT = ("  - {{from: order, to: rabbit, channel: payments, style: {style}, timeout_ms: 5000}}\n"
           "  - {{from: rabbit, to: payment, channel: payments}}\n")
DIRECT_OUT = "  - {{from: order, to: payment, transport: {transport}, style: {style}, timeout_ms: 5000}}\n"


@pytest.mark.timeout(150)
@pytest.mark.parametrize(("client", "links", "call_link"), [
    ("style: request-response, transport: http", INTO_DIRECT + RPC_OUT.format(style="request-response"),
     "order->rabbit"),
    ("style: async-request-response, transport: zmq",
     INTO_DIRECT + RPC_OUT.format(style="async-request-response"), "order->rabbit"),
    ("style: notification, transport: amqp",
     INTO_RABBIT + DIRECT_OUT.format(transport="zmq", style="async-request-response"), "order->payment"),
    ("style: async-request-response, transport: amqp",
     INTO_RABBIT + DIRECT_OUT.format(transport="http", style="request-response"), "order->payment"),
    ("style: publish-subscribe, transport: amqp",
     INTO_RABBIT + RPC_OUT.format(style="async-request-response"), "order->rabbit"),
], ids=["http->amqp-rpc", "zmq-dealer->amqp-async-rpc", "amqp-queue->zmq-dealer", "amqp-rpc->http",
        "amqp-fanout->amqp-async-rpc"])
def test_every_feed_calls_over_amqp_or_from_amqp(lab, shared_broker, client, links, call_link):
    topo = topofile.loads(COMBO.format(client=client, links=links)).topology
    summary, _ = lab.run(isolate(topo, shared_broker.url, uuid.uuid4().hex[:8]))
    chain = summary["chains"]["shop"]
    assert summary["total"]["lost"] == 0
    assert chain["entered"] == chain["e2e_reached"] == 200
    assert summary["links"][call_link]["acknowledged"] == 200
    assert summary["nodes"]["payment"]["duplicates_processed"] == 0
