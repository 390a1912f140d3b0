"""Service chains over RabbitMQ (issue 12): a redelivery upstream makes the same downstream ID."""

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
name: redelivery-at-hop-1
nodes:
  - {name: shop, kind: client, style: notification, transport: amqp, rate: 200, count: 400}
  - {name: rabbit, kind: broker}
  - {name: order, kind: service, idempotent: false, restart_on_crash: true}
  - {name: payment, kind: service}
links:
  - {from: shop, to: rabbit, channel: orders}
  - {from: rabbit, to: order, channel: orders}
  - {from: order, to: rabbit, channel: payments, delivery: outbox}
  - {from: rabbit, to: payment, channel: payments}
"""


@pytest.mark.timeout(150)
def test_a_redelivery_at_hop_1_is_refused_downstream_by_its_derived_id(lab, shared_broker):
    """order (naive) crashes after its commit, before its ack: RabbitMQ redelivers, order applies
    the order again and writes a second outbox row; the event carries the same downstream ID,
    so payment's PROCESSED_MESSAGES refuses it."""
    topo: Topology = topofile.loads(FLOW).topology
    topo.node("order").crash = Crash(after=100, point=CrashPoint.AFTER_COMMIT)  # type: ignore[union-attr]
    topo = isolate(topo, shared_broker.url, uuid.uuid4().hex[:8])
    summary, sup = lab.run(topo)
    assert summary["links"]["rabbit->order"]["redelivered"] > 0
    doubled = summary["nodes"]["order"]["duplicates_processed"]
    assert doubled >= 1  # the naive hop 1 applied a redelivered order twice
    pay = summary["links"]["order->rabbit"]
    # payment refused each second event (and any outbox row the relay sent again after the crash)
    assert pay["duplicates_suppressed"] >= doubled
    assert pay["duplicates_processed"] == 0
    assert summary["chains"]["shop"]["stages"][0]["duplicates_suppressed"] == pay["duplicates_suppressed"]
    assert summary["chains"]["shop"]["e2e_reached"] == 400
    # the orders hop 1 applied twice are refused downstream under their derived ID (hop, same seq)
    hop = sup.plan.clients["order->rabbit@shop"]
    twice = seqs(sup, "order", "SELECT message_id & 4294967295 FROM authorisations "
                 "GROUP BY message_id HAVING count(*) > 1")
    refused = seqs(sup, "payment", "SELECT message_id & 4294967295 FROM refused_duplicates "
                   f"WHERE message_id >> 32 = {hop}")
    assert len(twice) == doubled and twice <= refused


def seqs(sup, service: str, sql: str) -> set[int]:
    db = sqlite3.connect(sup.table.nodes[service].node_dir / "service.db")
    try:
        return {row[0] for row in db.execute(sql)}
    finally:
        db.close()
