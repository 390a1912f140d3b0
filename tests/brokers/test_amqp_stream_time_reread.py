"""Streams on the real broker: a consumer that starts at a time, and a re-read on demand.

A stream keeps every message; a consumer attaches where it says. `time:4s`
attaches at what the broker received 4 s into the run (to the second, from
the chunk before it), so the first messages are never read by it; a re-read
from `first` reads the whole log again, and the idempotent consumer refuses
every message it had already processed.
"""

from __future__ import annotations

import sqlite3
import textwrap
import uuid

import pytest
import yaml

from engines.topology import topofile, validation
from engines.topology.model import Topology
from engines.topology.problems import Severity
from tests.brokers.conftest import isolate

pytestmark = pytest.mark.rabbitmq

LOG = """
    version: 1
    name: stream-time
    nodes:
      - {name: events, kind: client, style: notification, transport: amqp, rate: 50, count: 400}
      - {name: rabbit, kind: broker}
      - {name: projector, kind: service, reply: false, prefetch: 50, stream_offset: "time:4s"}
    links:
      - {from: events, to: rabbit, channel: events}
      - {from: rabbit, to: projector, channel: events, queue_type: stream}
    """


def _seqs(sup, name: str) -> list[int]:
    db = sup.table.nodes[name].node_dir / "service.db"
    with sqlite3.connect(db) as conn:
        return sorted(row[0] & 0xFFFFFFFF for row in conn.execute("SELECT message_id FROM processed_messages"))


def _topology(text: str, shared_broker) -> Topology:
    return isolate(topofile.loads(textwrap.dedent(text)).topology, shared_broker.url, uuid.uuid4().hex[:8])


@pytest.mark.timeout(180)
def test_a_consumer_that_starts_at_a_time_reads_from_then_on(lab, shared_broker):
    summary, sup = lab.run(_topology(LOG, shared_broker))
    seqs = _seqs(sup, "projector")
    first = seqs[0]
    assert first >= 50  # not from the start: what came in the first seconds is not read
    assert seqs == list(range(first, 400))  # from there on, nothing skipped
    projector = summary["nodes"]["projector"]
    assert projector["processed"] == 400 - first
    assert summary["nodes"]["events"]["lost"] == first  # the ledger: never processed by it
    attach = [e for e in sup.events.since(0) if e.get("event") == "stream-attach"]
    origin = next(e["origin_t"] for e in sup.events.since(0) if e.get("event") == "run-started")
    assert attach and attach[0]["t"] - origin >= 4.0  # it waited for 4 s on the run's clock


REREAD = """
    version: 1
    name: stream-reread
    nodes:
      - {name: events, kind: client, style: notification, transport: amqp, rate: 100, count: 600}
      - {name: rabbit, kind: broker}
      - {name: projector, kind: service, reply: false, prefetch: 50, stream_offset: first,
         idempotent: true}
    links:
      - {from: events, to: rabbit, channel: events}
      - {from: rabbit, to: projector, channel: events, queue_type: stream}
    scenario:
      - {action: reread, target: projector, at_s: 2, offset: first}
    """


@pytest.mark.timeout(180)
def test_a_reread_on_demand_is_counted_and_suppressed(lab, shared_broker):
    summary, sup = lab.run(_topology(REREAD, shared_broker))
    projector = summary["nodes"]["projector"]
    assert projector["stream_rereads"] == 1
    assert projector["stream_reread"] > 0  # what it had read by 2 s, read again
    assert projector["duplicates_suppressed"] == projector["stream_reread"]  # every one refused
    assert projector["duplicates_processed"] == 0
    assert projector["processed"] == 600 and summary["nodes"]["events"]["lost"] == 0
    assert projector["redelivered"] == 0  # read again from the log, not redelivered


def test_stream_offsets_are_checked_before_the_run():
    data = yaml.safe_load(textwrap.dedent(LOG).replace('"time:4s"', '"time:soon"'))
    with pytest.raises(Exception, match="stream_offset[^$]*not a stream offset: use first, last, next"):
        Topology.model_validate(data)
    data = yaml.safe_load(textwrap.dedent(REREAD).replace("target: projector", "target: events"))
    problems = validation.validate(Topology.model_validate(data))
    [error] = [p for p in problems if p.severity is Severity.ERROR]
    assert "'reread' needs a service that consumes a stream" in error.message
