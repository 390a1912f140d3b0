"""Consumers on the real broker, through the runtime (one shared node).

A consumer that commits but never acks holds its prefetch: the broker gives
it exactly `prefetch` messages and no more, and its competing consumer gets
the rest; nothing is lost.
"""

from __future__ import annotations

import textwrap
import uuid

import pytest

from engines.topology import topofile
from tests.brokers.conftest import isolate

pytestmark = pytest.mark.rabbitmq

STUCK = """
    version: 1
    name: never-acks
    nodes:
      - {name: orders, kind: client, style: notification, transport: amqp, rate: 1000, count: 500}
      - {name: rabbit, kind: broker}
      - {name: stuck, kind: service, reply: false, ack: never, prefetch: 10}
      - {name: worker, kind: service, reply: false}
    links:
      - {from: orders, to: rabbit, channel: orders}
      - {from: rabbit, to: stuck, channel: orders}
      - {from: rabbit, to: worker, channel: orders}
    """


@pytest.mark.timeout(120)
def test_a_consumer_that_never_acks_holds_its_prefetch(lab, shared_broker):
    topo = isolate(topofile.loads(textwrap.dedent(STUCK)).topology, shared_broker.url,
                   uuid.uuid4().hex[:8])
    summary, _ = lab.run(topo)
    stuck, worker = summary["nodes"]["stuck"], summary["nodes"]["worker"]
    assert stuck["processed"] == stuck["amqp_received"] == 10 and stuck.get("amqp_acked", 0) == 0
    assert worker["processed"] >= 490  # the rest (and the 10, if it outlives the stuck one)
    assert summary["nodes"]["orders"]["lost"] == 0
