"""A publish to an exchange that does not exist, on the real broker (one shared node).

The publisher leaves declaring to its consumers (`declare: false`); its only
subscriber joins 3 s late, so until then every publish goes to an exchange
that does not exist: RabbitMQ closes the channel (404 NOT_FOUND). The client
counts each close, reconnects, resends what was unconfirmed, and once the
subscriber has declared the exchange its messages get through.
"""

from __future__ import annotations

import textwrap
import uuid

import pytest

from engines.topology import topofile
from tests.brokers.conftest import isolate

pytestmark = pytest.mark.rabbitmq

MISSING = """
    version: 1
    name: missing-exchange
    nodes:
      - {name: news, kind: client, style: publish-subscribe, transport: amqp, rate: 100, count: 600,
         declare: false, retries: 10}
      - {name: rabbit, kind: broker}
      - {name: reader, kind: service, reply: false, join_after_ms: 3000}
    links:
      - {from: news, to: rabbit}
      - {from: rabbit, to: reader}
    """


@pytest.mark.timeout(180)
def test_publishing_to_a_missing_exchange_closes_the_channel_counted_and_reconnected(lab, shared_broker):
    topo = isolate(topofile.loads(textwrap.dedent(MISSING)).topology, shared_broker.url,
                   uuid.uuid4().hex[:8])
    summary, sup = lab.run(topo)
    news, reader = summary["nodes"]["news"], summary["nodes"]["reader"]
    assert news["errors_channel_closed"] > 0 and news["reconnects"] > 0
    assert news["errors_connection"] == 0  # the connection was fine; the channel was closed
    assert 0 < reader["processed"] and news["acknowledged"] > 0
    assert news["lost"] == 0  # nothing confirmed went missing
    log = (sup.table.nodes["news"].node_dir / "node.log").read_text()
    assert "NOT_FOUND - no exchange" in log  # reported, in the broker's words
