"""Streams (queue_type: stream) on the real broker, through the runtime (one shared node).

A stream is an append-only log: a consumer reads from an offset and stores
the offset of what it acked. Killed after its commit and before storing its
offset, it reads those messages again when it restarts, and its idempotent
consumer refuses them: the log-style broker lesson (Kafka's consumer offsets).
"""

from __future__ import annotations

import textwrap
import uuid

import pytest
import yaml

from engines.topology import topofile, validation
from engines.topology.model import Topology
from engines.topology.problems import Severity
from tests.brokers.conftest import isolate

pytestmark = pytest.mark.rabbitmq

STREAM = """
    version: 1
    name: stream
    nodes:
      - {name: events, kind: client, style: notification, transport: amqp, rate: 1000, count: 300}
      - {name: rabbit, kind: broker}
      - {name: projector, kind: service, reply: false, prefetch: 50, stream_offset: first,
         crash: {after: 120, point: after-commit}, restart_on_crash: true}
    links:
      - {from: events, to: rabbit, channel: events}
      - {from: rabbit, to: projector, channel: events, queue_type: stream}
    """


@pytest.mark.timeout(180)
def test_a_stream_consumer_killed_before_storing_its_offset_reads_again(lab, shared_broker):
    topo = isolate(topofile.loads(textwrap.dedent(STREAM)).topology, shared_broker.url,
                   uuid.uuid4().hex[:8])
    summary, sup = lab.run(topo)
    projector, events = summary["nodes"]["projector"], summary["nodes"]["events"]
    assert projector["processed"] == 300 and events["lost"] == 0
    assert projector["duplicates_suppressed"] >= 1  # read again after the restart: refused
    assert projector["duplicates_processed"] == 0
    assert projector["redelivered"] == 0  # not redelivered by the broker: re-read from the log
    stored = sup.table.nodes["projector"].node_dir.glob("stream-offset.*")
    assert [int(p.read_text()) for p in stored] == [299]  # offsets 0..299, the last one acked


def test_stream_consumers_need_manual_acks_and_a_prefetch():
    """Refused before the run in the broker's words (measured on 3.10 with pika)."""
    data = yaml.safe_load(textwrap.dedent(STREAM).replace("prefetch: 50", "ack: auto"))
    problems = validation.validate(Topology.model_validate(data))
    [error] = [p for p in problems if p.severity is Severity.ERROR]
    assert error.message == ("PRECONDITION_FAILED - consumer prefetch count is not set for "
                             "'queue 'events' in vhost '/''")
    assert error.link == "rabbit->projector"
