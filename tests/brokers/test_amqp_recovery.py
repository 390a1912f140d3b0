"""Recovery from a broker that goes away, on managed nodes the runs stop or kill.

- a *graceful* broker stop (ConnectionClosedByBroker, the case pika's own
  example loop never reconnects from), with a quorum queue: clients and
  services reconnect, declare again, and nothing confirmed is lost;
- asynchronous RPC across a broker kill: requests whose replies died with
  the connection are in doubt, resent with the same ID, and every one is
  answered in the end; the idempotent service applies each once.
"""

from __future__ import annotations

import textwrap

import pytest

from engines.topology import topofile
from tests.runtime.conftest import db_rows

pytestmark = pytest.mark.rabbitmq


def topology(text: str):
    return topofile.loads(textwrap.dedent(text)).topology


@pytest.mark.timeout(180)
def test_graceful_broker_stop_with_a_quorum_queue(lab):
    topo = topology("""
        version: 1
        name: graceful-stop-quorum
        nodes:
          - {name: orders, kind: client, style: notification, transport: amqp, rate: 1000,
             count: 4000}
          - {name: rabbit, kind: broker}
          - {name: billing, kind: service, prefetch: 200}
        links:
          - {from: orders, to: rabbit, channel: bills}
          - {from: rabbit, to: billing, queue_type: quorum}
        scenario:
          - {action: stop, target: rabbit, at_s: 1}
          - {action: start, target: rabbit, at_s: 1.5}
        """)
    summary, sup = lab.run(topo)
    orders, billing = summary["nodes"]["orders"], summary["nodes"]["billing"]
    assert orders["sent"] == orders["acknowledged"] == 4000
    assert orders["lost"] == orders["in_doubt"] == 0
    assert billing["processed"] == 4000 and billing["duplicates_processed"] == 0
    assert orders["errors_by_kind"].get("connection", 0) >= 1  # it noticed, and came back
    assert db_rows(sup, "billing", "SELECT count(DISTINCT message_id) FROM authorisations") == 4000
    rabbit = [e["event"] for e in sup.events.since(0) if e.get("node") == "rabbit"]
    assert "exited" in rabbit and rabbit.count("ready") == 2


@pytest.mark.timeout(180)
def test_async_rpc_across_a_broker_kill(lab):
    topo = topology("""
        version: 1
        name: rpc-broker-kill
        nodes:
          - {name: asker, kind: client, style: async-request-response, transport: amqp, rate: 1000,
             count: 4000, in_flight: 100, timeout_ms: 2000, retries: 5}
          - {name: rabbit, kind: broker}
          - {name: answerer, kind: service, idempotent: true}
        links:
          - {from: asker, to: rabbit, channel: questions}
          - {from: rabbit, to: answerer}
        scenario:
          - {action: kill, target: rabbit, at_s: 1}
          - {action: restart, target: rabbit, at_s: 1.5}
        """)
    summary, sup = lab.run(topo)
    asker, answerer = summary["nodes"]["asker"], summary["nodes"]["answerer"]
    assert asker["sent"] == asker["acknowledged"] == 4000  # every request answered in the end
    assert asker["lost"] == asker["in_doubt"] == asker["gave_up"] == 0
    assert asker["retries"] > 0  # the ones in flight at the kill went again, same IDs
    assert answerer["processed"] == 4000 and answerer["duplicates_processed"] == 0
    assert answerer["duplicates_suppressed"] == answerer["duplicates_delivered"]
    assert db_rows(sup, "answerer", "SELECT count(*) - count(DISTINCT message_id) FROM authorisations") == 0
