"""Queue lifetimes on the real broker, through the runtime (one shared node).

- publish-subscribe with a durable subscriber queue and an exclusive,
  auto-delete one (the non-durable subscriber): both subscribers stop for a
  while (after 600 messages sent, back after 1800); the durable queue keeps what came meanwhile, the exclusive one died
  with its consumer's connection, so that subscriber missed it (lost on its
  route) although every message was routed (no returns);
- a work queue with auto-delete: when its only consumer stops, the queue goes,
  and what is published until the consumer is back has nowhere to go
  (returned: unroutable).
"""

from __future__ import annotations

import textwrap
import uuid

import pytest

from engines.topology import topofile
from tests.brokers.conftest import isolate

pytestmark = pytest.mark.rabbitmq

KINDS = """
    version: 1
    name: queue-kinds
    nodes:
      - {name: news, kind: client, style: publish-subscribe, transport: amqp, rate: 400, count: 1400}
      - {name: jobs, kind: client, style: notification, transport: amqp, rate: 400, count: 1400}
      - {name: rabbit, kind: broker}
      - {name: archive, kind: service, reply: false}
      - {name: ticker, kind: service, reply: false}
      - {name: worker, kind: service, reply: false}
    links:
      - {from: news, to: rabbit}
      - {from: jobs, to: rabbit}
      - {from: rabbit, to: archive, channel: news}
      - {from: rabbit, to: ticker, channel: news, durable: false, exclusive: true, auto_delete: true}
      - {from: rabbit, to: worker, channel: jobs, auto_delete: true}
    scenario:
      - {action: stop, target: archive, after_messages: 600}
      - {action: stop, target: ticker, after_messages: 600}
      - {action: stop, target: worker, after_messages: 600}
      - {action: start, target: archive, after_messages: 1800}
      - {action: start, target: ticker, after_messages: 1800}
      - {action: start, target: worker, after_messages: 1800}
    """


@pytest.mark.timeout(180)
def test_exclusive_and_auto_delete_queues_go_with_their_consumer(lab, shared_broker):
    suffix = uuid.uuid4().hex[:8]
    summary, _ = lab.run(isolate(topofile.loads(textwrap.dedent(KINDS)).topology,
                                 shared_broker.url, suffix))
    n, links = summary["nodes"], summary["links"]
    assert n["archive"]["processed"] == 1400  # the durable queue kept what came while it was away
    assert n["news"]["unroutable"] == 0  # the durable queue was always there to route to
    assert 0 < n["ticker"]["processed"] < 1400
    assert links["rabbit->ticker"]["lost"] == 1400 - n["ticker"]["processed"]
    assert links["rabbit->archive"]["lost"] == 0
    jobs = n["jobs"]
    assert jobs["unroutable"] > 0 and jobs["in_doubt"] == 0, (jobs, n["worker"], summary["node_states"])
    assert jobs["processed"] + jobs["unroutable"] + jobs["lost"] == 1400
    assert jobs["acknowledged"] == 1400 - jobs["unroutable"]
