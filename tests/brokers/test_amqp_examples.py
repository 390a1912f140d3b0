"""Every RabbitMQ example runs headless through the runtime with exact counters.

With faults removed, every message sent is processed exactly once and nothing
is lost, in doubt or duplicated. As written, the examples meet their own
expectations: a worker killed with unacked messages (07), a consumer that
crashes between commit and ack (13 idempotent, 14 naive). These share one
managed node (isolated channel names); the broker failure example (12) owns
its node, because it kills it.
"""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from tests.brokers.conftest import isolate
from tests.runtime.conftest import db_rows, example, without_faults

pytestmark = pytest.mark.rabbitmq

AMQP_EXAMPLES = ["03", "05", "07", "09", "11", "12", "13", "14"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("number", AMQP_EXAMPLES)
def test_example_counts_are_exact_without_faults(lab, shared_broker, number):
    topo = isolate(without_faults(number), shared_broker.url, uuid.uuid4().hex[:8])
    summary, sup = lab.run(topo)
    total = summary["total"]
    for client in topo.clients():
        node = summary["nodes"][client.name]
        assert node["sent"] == node["attempts"] == client.count
        assert node["errors"] == node["timeouts"] == node["retries"] == node["nacks"] == 0
        assert node["confirms"] == client.count  # every publish confirmed, none twice
        assert node["acknowledged"] == client.count
        if client.style.one_to_many:
            for link in topo.links_from(topo.links_from(client.name)[0].target):
                scoped = summary["links"][link.key]
                assert scoped["processed"] == scoped["delivered"] == client.count, link.key
        else:
            assert node["processed"] == node["delivered"] == client.count
        if client.style.expects_reply:
            subscribers = len(topo.links_from(topo.links_from(client.name)[0].target))
            assert node["replies"] == client.count * (subscribers if client.style.one_to_many else 1)
    for key in ("lost", "in_doubt", "duplicates_delivered", "duplicates_processed",
                "duplicates_suppressed", "redelivered"):
        assert total[key] == 0, key
    for service in topo.services():  # the databases agree with the ledger
        mine = f" WHERE instance = '{service.name}'" if service.store else ""  # instances share a store
        rows = db_rows(sup, service.name, "SELECT count(*) FROM authorisations" + mine)
        assert rows == summary["nodes"][service.name]["processed"]
    assert all(s["state"] == "exited" for n, s in summary["node_states"].items()
               if n not in {b.name for b in topo.brokers()})


@pytest.mark.timeout(120)
def test_manual_ack_worker_killed_its_unacked_messages_are_redelivered(lab, shared_broker):
    """07 as written: a worker is killed holding unacked messages; the other gets them."""
    topo = isolate(example("07"), shared_broker.url, uuid.uuid4().hex[:8])
    summary, sup = lab.run(topo)
    failed = [v for v in summary["expectations"] if not v["passed"]]
    assert not failed, failed
    total = summary["total"]
    assert total["sent"] == 3000 and total["processed"] == 3000
    assert total["lost"] == 0 and total["redelivered"] > 0
    # the redeliveries went to the survivor, flagged
    assert db_rows(sup, "fulfil-a", "SELECT count(*) FROM authorisations WHERE redelivered = 1") \
        + db_rows(sup, "fulfil-a", "SELECT count(*) FROM refused_duplicates WHERE redelivered = 1") \
        == total["redelivered"]
    assert summary["node_states"]["fulfil-b"]["state"] == "killed"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("number, idempotent", [("13", True), ("14", False)])
def test_consumer_killed_between_commit_and_ack(lab, shared_broker, number, idempotent):
    """The 200th authorisation is committed, the consumer dies before its ack, RabbitMQ
    redelivers it: the idempotent consumer refuses it, the naive one charges twice."""
    topo = isolate(example(number), shared_broker.url, uuid.uuid4().hex[:8])
    summary, sup = lab.run(topo)
    failed = [v for v in summary["expectations"] if not v["passed"]]
    assert not failed, failed
    node = summary["nodes"]["card-authoriser"]
    assert node["processed"] == 1000 and summary["total"]["lost"] == 0
    path = sup.table.nodes["card-authoriser"].node_dir / "service.db"
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        charged_twice = db.execute(
            "SELECT count(*) FROM (SELECT message_id FROM authorisations GROUP BY message_id "
            "HAVING count(*) > 1)").fetchone()[0]
        refused = db.execute("SELECT count(*) FROM refused_duplicates").fetchone()[0]
        refused_redelivered = db.execute(
            "SELECT count(*) FROM refused_duplicates WHERE redelivered = 1").fetchone()[0]
    finally:
        db.close()
    # The handler commits the batch up to the 200th message and dies before the ack: usually
    # the 200th alone, more when a loaded machine let more arrive in the same batch.
    if idempotent:
        assert node["duplicates_suppressed"] == refused == refused_redelivered >= 1
        assert node["duplicates_processed"] == charged_twice == 0
    else:
        assert node["duplicates_processed"] == charged_twice >= 1
        assert node["duplicates_suppressed"] == refused == 0
    assert summary["node_states"]["card-authoriser"]["lives"] == 2
