"""Rejects and dead-lettering on the real broker, through the runtime (one shared node).

Services reject deliveries (basic.reject, no requeue) three ways: the messages
that fail processing (poison, the same ones every time), a random fraction,
and every Nth. A queue with a dead-letter exchange hands each rejected message
to it with RabbitMQ's x-death header; services consuming the dead-letter
queue (default exchange + routing key) or exchange (fanout, one queue each)
commit them and count the reason. A queue without one drops them: lost.
"""

from __future__ import annotations

import textwrap
import uuid

import pytest

from engines.topology import topofile
from tests.brokers.conftest import isolate

pytestmark = pytest.mark.rabbitmq

REJECTS = """
    version: 1
    name: rejects
    nodes:
      - {name: shop, kind: client, style: notification, transport: amqp, rate: 1000, count: 300}
      - {name: feed, kind: client, style: notification, transport: amqp, rate: 1000, count: 400}
      - {name: rabbit, kind: broker}
      - {name: payments, kind: service, reply: false, reject: failed, fail_every: 50}
      - {name: picky, kind: service, reply: false, reject: fraction, reject_fraction: 0.25}
      - {name: audit, kind: service, reply: false}
      - {name: alerts, kind: service, reply: false}
      - {name: sink, kind: service, reply: false}
    links:
      - {from: shop, to: rabbit, channel: pay}
      - {from: feed, to: rabbit, channel: chance}
      - {from: rabbit, to: payments, channel: pay, dead_letter_exchange: graveyard}
      - {from: rabbit, to: picky, channel: chance, dead_letter_exchange: "",
         dead_letter_routing_key: chance-dead}
      - {from: rabbit, to: audit, channel: graveyard}
      - {from: rabbit, to: alerts, channel: graveyard}
      - {from: rabbit, to: sink, channel: chance-dead}
    """


@pytest.mark.timeout(180)
def test_rejected_messages_are_dead_lettered_with_their_reason(lab, shared_broker):
    text = textwrap.dedent(REJECTS)
    suffix = uuid.uuid4().hex[:8]
    for name in ("graveyard", "chance-dead"):  # dead-letter channels of this run alone
        text = text.replace(name, f"{name}-{suffix}")
    topo = isolate(topofile.loads(text).topology, shared_broker.url, suffix)
    summary, _ = lab.run(topo)
    nodes = summary["nodes"]
    # poison messages 50, 100, ... 300 fail every time: rejected, dead-lettered to a fanout
    # exchange whose two consumers each commit all six, with the reason RabbitMQ gives
    assert nodes["payments"]["rejected"] == 6 and nodes["payments"]["processed"] == 294
    for name in ("audit", "alerts"):
        assert nodes[name]["processed"] == 6
        assert nodes[name]["dead_lettered"] == nodes[name]["dead_lettered_rejected"] == 6
        assert nodes[name]["x_death_count"] == 6  # each died once
    assert nodes["shop"]["lost"] == 0 and nodes["shop"]["processed"] == 294
    assert nodes["shop"]["duplicates_processed"] == 0  # two dead-letter copies are no double charge
    # a random quarter rejected: exactly what was rejected reaches the dead-letter queue
    picky, sink = nodes["picky"], nodes["sink"]
    assert 0 < picky["rejected"] < 400
    assert picky["processed"] + picky["rejected"] == 400
    assert sink["processed"] == sink["dead_lettered_rejected"] == picky["rejected"]
    assert nodes["feed"]["lost"] == 0 and nodes["feed"]["acknowledged"] == 400
