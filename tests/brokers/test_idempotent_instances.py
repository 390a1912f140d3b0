"""Idempotent consumer settings against a real RabbitMQ node.

- instances of one service (`store:`) share PROCESSED_MESSAGES: the message
  one instance committed before it died comes back to the other instance and
  is refused; with separate stores (different subscribers) it is applied twice;
- a crash after commit duplicates the one message the crash point names, not
  the batch it arrived with;
- the two wrong orders of the idempotent consumer's writes (marker first,
  effect first) with a crash between them: one loses the effect, the other
  applies it twice.
"""

from __future__ import annotations

import textwrap
import uuid

import pytest

from engines.nodes import records
from engines.topology import topofile
from tests.brokers.conftest import isolate
from tests.runtime.conftest import db_rows

pytestmark = pytest.mark.rabbitmq


def _workers(store_a: str, store_b: str) -> str:
    return textwrap.dedent(f"""
        version: 1
        name: instances
        nodes:
          - {{name: orders, kind: client, style: notification, transport: amqp, rate: 0, count: 3000}}
          - {{name: rabbit, kind: broker}}
          - {{name: fulfil-a, kind: service, processing_ms: 0.2, prefetch: 200{store_a}}}
          - {{name: fulfil-b, kind: service, processing_ms: 0.2, prefetch: 200{store_b},
              crash: {{after: 300, point: after-commit}}}}
        links:
          - {{from: orders, to: rabbit, channel: orders}}
          - {{from: rabbit, to: fulfil-a}}
          - {{from: rabbit, to: fulfil-b}}
        """)


def _run(lab, broker, text: str):
    topo = isolate(topofile.loads(text).topology, broker.url, uuid.uuid4().hex[:8])
    return lab.run(topo)


@pytest.mark.timeout(150)
def test_instances_sharing_a_store_refuse_the_redelivery_of_a_committed_message(lab, shared_broker):
    summary, sup = _run(lab, shared_broker, _workers(", store: fulfil", ", store: fulfil"))
    total, a, b = summary["total"], summary["nodes"]["fulfil-a"], summary["nodes"]["fulfil-b"]
    assert summary["node_states"]["fulfil-b"]["state"] == "crashed", summary["node_states"]
    assert total["sent"] == 3000 and total["lost"] == 0, total
    # the message fulfil-b committed just before its crash came back to fulfil-a, which shares
    # PROCESSED_MESSAGES: refused. Exactly one: the batch before it had been acked.
    assert total["duplicates_suppressed"] == 1 and total["duplicates_processed"] == 0, total
    assert a["duplicates_suppressed"] == 1 and b["duplicates_suppressed"] == 0, (a, b)
    assert b["processed"] == 300 and a["processed"] == 2700, (a, b)
    # one database, counted per instance
    assert db_rows(sup, "fulfil-a", "SELECT count(*) FROM authorisations") == 3000
    assert db_rows(sup, "fulfil-b", "SELECT count(*) FROM processed_messages") == 3000
    assert not (sup.table.nodes["fulfil-a"].node_dir / "service.db").exists()


@pytest.mark.timeout(150)
def test_separate_stores_are_different_subscribers_and_apply_the_redelivery_again(lab, shared_broker):
    summary, sup = _run(lab, shared_broker, _workers("", ""))
    total, a, b = summary["total"], summary["nodes"]["fulfil-a"], summary["nodes"]["fulfil-b"]
    assert total["sent"] == 3000 and total["lost"] == 0, total
    assert total["duplicates_processed"] == 1 and total["duplicates_suppressed"] == 0, total
    assert b["processed"] == 300 and a["processed"] + a["duplicates_processed"] == 2701, (a, b)
    assert db_rows(sup, "fulfil-b", "SELECT count(*) FROM authorisations") == 300


def _split(mode: str) -> str:
    return textwrap.dedent(f"""
        version: 1
        name: split-{mode}
        nodes:
          - {{name: orders, kind: client, style: notification, transport: amqp, rate: 0, count: 1000}}
          - {{name: rabbit, kind: broker}}
          - {{name: ledger, kind: service, transaction: {mode}, restart_on_crash: true,
              crash: {{after: 100, point: between-writes}}}}
        links:
          - {{from: orders, to: rabbit, channel: orders}}
          - {{from: rabbit, to: ledger}}
        """)


@pytest.mark.timeout(150)
def test_marker_first_then_crash_loses_the_effect(lab, shared_broker):
    summary, sup = _run(lab, shared_broker, _split("marker-first"))
    total = summary["total"]
    assert summary["node_states"]["ledger"]["lives"] == 2, summary["node_states"]
    # the marker committed, the authorisation did not: the redelivery is refused as a duplicate
    assert total["lost"] == 1 and total["processed"] == 999, total
    assert total["duplicates_suppressed"] == 1 and total["duplicates_processed"] == 0, total
    assert db_rows(sup, "ledger", "SELECT count(*) FROM processed_messages") == 1000


@pytest.mark.timeout(150)
def test_effect_first_then_crash_applies_the_effect_twice(lab, shared_broker):
    summary, sup = _run(lab, shared_broker, _split("effect-first"))
    total = summary["total"]
    # the authorisation committed, the marker did not: the redelivery is applied again
    assert total["lost"] == 0 and total["processed"] == 1000, total
    assert total["duplicates_processed"] == 1 and total["duplicates_suppressed"] == 0, total
    assert db_rows(sup, "ledger", "SELECT count(*) FROM authorisations") == 1001


@pytest.mark.timeout(150)
def test_rpc_server_crash_after_reply_before_ack_redelivers_an_answered_request(lab, shared_broker):
    summary, sup = _run(lab, shared_broker, textwrap.dedent("""
        version: 1
        name: rpc-after-reply
        nodes:
          - {name: caller, kind: client, style: request-response, transport: amqp, rate: 0, count: 300,
              timeout_ms: 15000}
          - {name: rabbit, kind: broker}
          - {name: pricing, kind: service, restart_on_crash: true, crash: {after: 50, point: after-reply}}
        links:
          - {from: caller, to: rabbit, channel: pricing}
          - {from: rabbit, to: pricing}
        """))
    total = summary["total"]
    assert summary["node_states"]["pricing"]["lives"] == 2, summary["node_states"]
    assert "after publishing its reply" in (sup.table.nodes["pricing"].node_dir / "crashed").read_text()
    # the caller had its answer (no timeout, no retry); the request came back to the restarted
    # server, whose PROCESSED_MESSAGES refused it, and its second reply reached the caller
    assert total["acknowledged"] == 300 and total["lost"] == 0 and total["timeouts"] == 0, total
    # redelivered: that request, and any the caller had sent after its answer (not yet committed)
    assert total["redelivered"] >= 1 and total["duplicates_suppressed"] == 1, total
    assert total["duplicates_processed"] == 0, total
    record = records.read(sup.table.nodes["caller"].node_dir / "records.bin")
    assert record.counters["duplicate_replies"] == 1, record.counters
