"""Poison messages and the quorum delivery limit on the real broker (one shared node).

A service fails on the same messages every time and nacks them with requeue:
the broker delivers each again, flagged redelivered, until the quorum queue's
x-delivery-limit (3) is passed; then it dead-letters it with reason
`delivery_limit`. 3.10 has no default limit: without one the loop never ends.
"""

from __future__ import annotations

import textwrap
import uuid

import pytest

from engines.topology import topofile
from tests.brokers.conftest import isolate

pytestmark = pytest.mark.rabbitmq

POISON = """
    version: 1
    name: poison
    nodes:
      - {name: orders, kind: client, style: notification, transport: amqp, rate: 500, count: 100}
      - {name: rabbit, kind: broker}
      - {name: worker, kind: service, reply: false, reject: failed, fail_every: 25, requeue: true}
      - {name: morgue, kind: service, reply: false}
    links:
      - {from: orders, to: rabbit, channel: orders}
      - {from: rabbit, to: worker, channel: orders, queue_type: quorum, delivery_limit: 3,
         dead_letter_exchange: "", dead_letter_routing_key: POISONED}
      - {from: rabbit, to: morgue, channel: POISONED, queue_type: quorum}
    """


@pytest.mark.timeout(180)
def test_poison_messages_are_redelivered_until_the_delivery_limit_then_dead_lettered(lab, shared_broker):
    suffix = uuid.uuid4().hex[:8]
    text = textwrap.dedent(POISON).replace("POISONED", f"poisoned-{suffix}")
    summary, _ = lab.run(isolate(topofile.loads(text).topology, shared_broker.url, suffix))
    worker, morgue = summary["nodes"]["worker"], summary["nodes"]["morgue"]
    assert worker["processed"] == 96  # messages 25, 50, 75 and 100 fail every time
    assert worker["requeued"] == 4 * 4  # the first delivery and 3 more: x-delivery-limit 3
    assert worker["amqp_redelivered"] == 4 * 3
    assert morgue["processed"] == morgue["dead_lettered_delivery_limit"] == 4
    assert summary["nodes"]["orders"]["lost"] == 0
