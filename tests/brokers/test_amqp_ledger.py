"""The ledger counts what the broker told the client (real RabbitMQ, through the runtime).

A message the broker returned (mandatory, unroutable) is a publish error the
client saw: counted as `unroutable`, neither lost nor in doubt. Without
`mandatory` the broker drops it silently after confirming it: only the ledger
can tell, and it counts it lost.
"""

from __future__ import annotations

import textwrap
import uuid

import pytest

from engines.topology import topofile
from tests.brokers.conftest import isolate

pytestmark = pytest.mark.rabbitmq

UNROUTABLE = """
    version: 1
    name: unroutable
    nodes:
      - {name: loud, kind: client, style: publish-subscribe, transport: amqp, rate: 400, count: 200,
         mandatory: true}
      - {name: quiet, kind: client, style: publish-subscribe, transport: amqp, rate: 400, count: 200,
         mandatory: false}
      - {name: auction, kind: client, style: publish-async-responses, transport: amqp, rate: 200,
         count: 50, collect_ms: 200, mandatory: true}
      - {name: rabbit, kind: broker}
      - {name: us-desk, kind: service, reply: false}
      - {name: us-desk-2, kind: service, reply: false}
      - {name: us-bidder, kind: service}
    links:
      - {from: loud, to: rabbit, exchange_type: topic, routing_key: eu.orders}
      - {from: quiet, to: rabbit, exchange_type: topic, routing_key: eu.orders}
      - {from: auction, to: rabbit, exchange_type: topic, routing_key: eu.lots}
      - {from: rabbit, to: us-desk, channel: loud, exchange_type: topic, routing_key: "us.*"}
      - {from: rabbit, to: us-desk-2, channel: quiet, exchange_type: topic, routing_key: "us.*"}
      - {from: rabbit, to: us-bidder, channel: auction, exchange_type: topic, routing_key: "us.*"}
    expectations:
      - loud.unroutable == 200
      - loud.errors_unroutable == 200
      - loud.lost == 0
      - loud.in_doubt == 0
      - quiet.acknowledged == 200
      - quiet.unroutable == 0
      - quiet.lost == 200
      - auction.unroutable == 50
      - auction.in_doubt == 0
      - auction.lost == 0
      - auction.timeouts == 0
      - processed == 0
    """


@pytest.mark.timeout(180)
def test_returned_messages_are_unroutable_not_lost_and_silent_drops_are_lost(lab, shared_broker):
    topo = isolate(topofile.loads(textwrap.dedent(UNROUTABLE)).topology, shared_broker.url,
                   uuid.uuid4().hex[:8])
    summary, _ = lab.run(topo)
    failed = [e for e in summary["expectations"] if not e["passed"]]
    assert not failed, (failed, {n: summary["nodes"][n] for n in ("loud", "quiet", "auction")})
    loud = summary["nodes"]["loud"]
    assert loud["errors_by_kind"] == {"unroutable": 200} and loud["confirms"] == 0
    assert summary["total"]["unroutable"] == 250


def test_publish_subscribe_in_doubt_comes_from_confirms():
    """No broker needed: the ledger's rule for one-to-many clients with confirms."""
    import numpy as np

    from engines.ledger.reconcile import ClientBook, RouteBook, ServiceBook, compute
    from engines.nodes import records

    s, a = records.SENT, records.ACKED
    client = ClientBook(
        name="news", index=0, status=np.array([s | a, s | a, s, s, s], dtype=np.uint8),
        counters={}, acknowledges=True, one_to_many=True,
        routes=[RouteBook("sub", "rabbit->sub", "news->rabbit", 0)],
        flags=np.array([0, 0, 0, records.RETURNED, 0], dtype=np.uint8),
        errors_by_kind={"unroutable": 1})
    service = ServiceBook("sub", effects={0: np.array([0, 4])})
    node = compute([client], {"sub": service})["nodes"]["news"]
    assert node["processed"] == 2  # 0, and 4 whose confirm never came
    assert node["lost"] == 1  # 1: confirmed, never processed
    assert node["in_doubt"] == 1  # 2: unconfirmed, never processed
    assert node["unroutable"] == 1 and node["errors_unroutable"] == 1  # 3: returned
