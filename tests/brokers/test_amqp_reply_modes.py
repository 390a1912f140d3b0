"""RPC reply modes on the real broker, through the runtime (one shared node).

Two callers, one with a private reply queue and one with direct reply-to
(amq.rabbitmq.reply-to), each restarted (SIGKILL, start) mid-stream while
requests wait at a slow service. The replies to the dead caller's reply queue
cannot be routed: a service that publishes replies with `mandatory` gets them
back (replies_returned); without it they vanish uncounted. Direct reply-to
has no queue at all: replies are at most once, and on RabbitMQ 3.10 every
mandatory reply to it comes back as returned, delivered or not (measured).
"""

from __future__ import annotations

import textwrap
import uuid

import pytest

from engines.topology import topofile
from tests.brokers.conftest import isolate

pytestmark = pytest.mark.rabbitmq

REPLIES = """
    version: 1
    name: reply-modes
    nodes:
      - {name: by-queue, kind: client, style: async-request-response, transport: amqp, rate: 300,
         count: 600, in_flight: 40, timeout_ms: 5000, retries: 0}
      - {name: direct, kind: client, style: async-request-response, transport: amqp, rate: 300,
         count: 600, in_flight: 40, timeout_ms: 5000, retries: 0, reply_to: direct}
      - {name: rabbit, kind: broker}
      - {name: svc-q, kind: service, processing_ms: 5, prefetch: 1, reply_mandatory: true}
      - {name: svc-d, kind: service, processing_ms: 5, prefetch: 1, reply_mandatory: true}
    links:
      - {from: by-queue, to: rabbit}
      - {from: direct, to: rabbit}
      - {from: rabbit, to: svc-q, channel: by-queue}
      - {from: rabbit, to: svc-d, channel: direct}
    scenario:
      - {action: restart, target: by-queue, after_messages: 500}
      - {action: restart, target: direct, after_messages: 500}
    """


@pytest.mark.timeout(180)
def test_replies_to_a_gone_requester_are_returned_with_mandatory(lab, shared_broker):
    topo = isolate(topofile.loads(textwrap.dedent(REPLIES)).topology, shared_broker.url,
                   uuid.uuid4().hex[:8])
    summary, _ = lab.run(topo)
    n = summary["nodes"]
    queue, svc_q = n["by-queue"], n["svc-q"]
    assert svc_q["replies_returned"] > 0  # the dead caller's reply queue went with its connection
    assert svc_q["replies_sent"] >= queue["replies"] + svc_q["replies_returned"]
    assert queue["replies"] < 600 and queue["lost"] == 0
    # direct reply-to: some replies had no one to go to (at most once) ...
    direct, svc_d = n["direct"], n["svc-d"]
    assert 0 < direct["replies"] < svc_d["replies_sent"] and direct["lost"] == 0
    # ... and RabbitMQ 3.10 returns every mandatory reply to a direct reply-to address,
    # delivered or not: there `replies_returned` counts them all (validation warns)
    assert svc_d["replies_returned"] == svc_d["replies_sent"]
