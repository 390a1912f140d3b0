"""Expiry on the real broker, through the runtime (one shared node).

Consumers join late (5 s), so messages wait in their queues:
- a queue TTL (x-message-ttl) expires them into its dead-letter queue, whose
  consumer counts the reason `expired`;
- a per-message TTL (the client's `expiration`) on a queue without a
  dead-letter exchange drops them silently: confirmed, then lost;
- a queue that expires (x-expires) while unused is deleted with what it held
  (lost), and what is published after that has no queue to go to (returned:
  unroutable).
"""

from __future__ import annotations

import textwrap
import uuid

import pytest

from engines.topology import topofile
from tests.brokers.conftest import isolate

pytestmark = pytest.mark.rabbitmq

EXPIRY = """
    version: 1
    name: expiry
    nodes:
      - {name: stale, kind: client, style: notification, transport: amqp, rate: 400, count: 200}
      - {name: brief, kind: client, style: notification, transport: amqp, rate: 400, count: 200,
         expiration_ms: 200}
      - {name: fading, kind: client, style: notification, transport: amqp, rate: 200, count: 400}
      - {name: rabbit, kind: broker}
      - {name: late, kind: service, reply: false, join_after_ms: 5000}
      - {name: late-2, kind: service, reply: false, join_after_ms: 5000}
      - {name: late-3, kind: service, reply: false, join_after_ms: 5000}
      - {name: morgue, kind: service, reply: false}
    links:
      - {from: stale, to: rabbit, channel: stale}
      - {from: brief, to: rabbit, channel: brief}
      - {from: fading, to: rabbit, channel: fading}
      - {from: rabbit, to: late, channel: stale, message_ttl_ms: 300, dead_letter_exchange: "",
         dead_letter_routing_key: stale-dead}
      - {from: rabbit, to: late-2, channel: brief}
      - {from: rabbit, to: late-3, channel: fading, expires_ms: 800}
      - {from: rabbit, to: morgue, channel: stale-dead}
    """


@pytest.mark.timeout(180)
def test_expired_messages_are_dead_lettered_dropped_or_deleted_with_their_queue(lab, shared_broker):
    suffix = uuid.uuid4().hex[:8]
    text = textwrap.dedent(EXPIRY).replace("stale-dead", f"stale-dead-{suffix}")
    topo = isolate(topofile.loads(text).topology, shared_broker.url, suffix)
    summary, _ = lab.run(topo)
    nodes = summary["nodes"]
    assert nodes["late"]["processed"] == 0
    assert nodes["morgue"]["processed"] == nodes["morgue"]["dead_lettered_expired"] == 200
    assert nodes["stale"]["lost"] == 0 and nodes["stale"]["acknowledged"] == 200
    assert nodes["late-2"]["processed"] == 0
    assert nodes["brief"]["acknowledged"] == nodes["brief"]["lost"] == 200
    fading = nodes["fading"]
    assert nodes["late-3"]["processed"] == 0
    assert fading["lost"] > 0 and fading["unroutable"] > 0  # deleted while it was still publishing
    assert fading["lost"] + fading["unroutable"] == 400 and fading["in_doubt"] == 0
