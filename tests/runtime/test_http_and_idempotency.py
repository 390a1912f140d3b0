"""HTTP failure behaviours, and the idempotent consumer against a crash between commit and ack.

The counts are checked against the services' SQLite rows, as a user would
query them.
"""

from __future__ import annotations

import pytest

from engines.topology.model import Action, ClientNode, Crash, ServiceNode, Step, Topology
from tests.runtime.conftest import db_rows, events, example


@pytest.mark.timeout(90)
def test_http_killed_service_refuses_at_once(lab):
    topo = Topology(
        name="http-kill",
        nodes=[ClientNode(name="shop", transport="http", rate=100, count=1000, timeout_ms=1000, retries=1),
               ServiceNode(name="inventory")],
        links=[{"from": "shop", "to": "inventory"}],
        scenario=[Step(action=Action.KILL, target="inventory", at_s=1.0)],
    )
    summary, sup = lab.run(topo, duration=3.0)
    shop = summary["nodes"]["shop"]
    assert shop["errors_by_kind"].get("refused", 0) >= 1, shop["errors_by_kind"]
    assert shop["timeouts"] == 0, "a dead service refuses; nobody waits for a timeout"
    assert shop["acknowledged"] < shop["sent"] < 1000
    assert summary["total"]["lost"] == 0


@pytest.mark.timeout(90)
def test_http_paused_service_makes_clients_time_out(lab):
    topo = example("01")
    topo.node("shop").count = 400
    topo.scenario = [Step(action=Action.PAUSE, target="inventory", at_s=1.0),
                     Step(action=Action.RESUME, target="inventory", at_s=2.0)]
    summary, sup = lab.run(topo)
    shop = summary["nodes"]["shop"]
    assert shop["timeouts"] > 0
    assert "refused" not in shop["errors_by_kind"], "a paused process still accepts connections"
    assert summary["total"]["lost"] == 0
    assert summary["nodes"]["inventory"]["duplicates_processed"] == 0
    assert events(sup, "paused", "inventory") and events(sup, "scenario", "inventory")


def _check_against_db(summary, sup, service: str) -> None:
    node = summary["nodes"][service]
    effects = db_rows(sup, service, "SELECT count(*) FROM authorisations")
    distinct = db_rows(sup, service, "SELECT count(DISTINCT message_id) FROM authorisations")
    refused = db_rows(sup, service, "SELECT count(*) FROM refused_duplicates")
    assert node["processed"] == distinct
    assert node["duplicates_processed"] == effects - distinct
    assert node["duplicates_suppressed"] == refused
    assert node["delivered"] == effects + refused


@pytest.mark.timeout(120)
def test_http_retry_after_lost_response_double_charges_unless_keyed(lab):
    summary, sup = lab.run(example("15"))
    naive, keyed = summary["nodes"]["payments"], summary["nodes"]["payments-keyed"]
    assert naive["duplicates_processed"] >= 1, "the retry authorised the card a second time"
    assert keyed["duplicates_processed"] == 0 and keyed["duplicates_suppressed"] >= 1
    _check_against_db(summary, sup, "payments")
    _check_against_db(summary, sup, "payments-keyed")
    assert db_rows(sup, "payments-keyed", "SELECT count(*) FROM processed_messages") == keyed["processed"]
    assert summary["total"]["lost"] == 0
    for name in ("payments", "payments-keyed"):
        assert summary["node_states"][name]["lives"] == 2
        assert events(sup, "crashed", name)[0]["reason"] == "configured crash"


def _card_topology(point: str) -> Topology:
    """Two zmq Lazy Pirate clients, each to a card authoriser that crashes once at `point`."""
    clients = [ClientNode(name=f"orders-{kind}", transport="zmq", rate=100, count=200,
                          timeout_ms=1000, retries=20) for kind in ("idempotent", "naive")]
    services = [ServiceNode(name=f"cards-{kind}", idempotent=kind == "idempotent", restart_on_crash=True,
                            crash=Crash(after=50, point=point)) for kind in ("idempotent", "naive")]
    return Topology(name="card-authorisation-zmq", nodes=[*clients, *services],
                    links=[{"from": f"orders-{k}", "to": f"cards-{k}"} for k in ("idempotent", "naive")])


@pytest.mark.timeout(120)
def test_crash_between_commit_and_ack_idempotent_once_naive_twice(lab):
    summary, sup = lab.run(_card_topology("after-commit"))
    good, naive = summary["nodes"]["cards-idempotent"], summary["nodes"]["cards-naive"]
    assert good["duplicates_suppressed"] > 0 and good["duplicates_processed"] == 0
    assert naive["duplicates_processed"] > 0
    for name in ("cards-idempotent", "cards-naive"):
        _check_against_db(summary, sup, name)
        assert summary["nodes"][name]["processed"] == 200
        assert (sup.table.nodes[name].node_dir / "crashed").exists()
    assert summary["total"]["lost"] == 0 and summary["total"]["acknowledged"] == 400


@pytest.mark.timeout(120)
def test_crash_before_commit_leaves_nothing_to_deduplicate(lab):
    summary, sup = lab.run(_card_topology("before-commit"))
    for name in ("cards-idempotent", "cards-naive"):
        node = summary["nodes"][name]
        assert node["processed"] == 200
        assert node["duplicates_processed"] == 0 and node["duplicates_suppressed"] == 0
        _check_against_db(summary, sup, name)
