"""The ZeroMQ behaviours of DESIGN.md, each shown by real processes.

Assertions are directions and exact bookkeeping identities, never speeds:
the machine is shared and slow.
"""

from __future__ import annotations

import pytest

from engines.topology.model import Action, ClientNode, ServiceNode, Step, Topology
from engines.transports.base import EXIT_GAVE_UP
from tests.runtime.conftest import db_rows, events, example


def _push_pull_with_slow_worker() -> Topology:
    topo = example("06")
    topo.node("events").count = 6000
    topo.node("worker-b").processing_ms = 2.0  # falls behind, so its buffers hold messages
    topo.scenario = [Step(action=Action.KILL, target="worker-b", at_s=1.5)]
    return topo


@pytest.mark.timeout(90)
def test_killed_pull_worker_loses_what_it_held_without_sender_error(lab):
    summary, sup = lab.run(_push_pull_with_slow_worker())
    total, client = summary["total"], summary["nodes"]["events"]
    assert client["sent"] == 6000
    assert total["lost"] > 0, "the killed worker's buffered messages should be gone"
    assert client["errors"] == 0 and client["timeouts"] == 0, "PUSH tells the sender nothing"
    assert total["duplicates_delivered"] == 0 and total["duplicates_processed"] == 0
    assert total["processed"] + total["lost"] == total["sent"]
    rows = sum(db_rows(sup, w, "SELECT count(*) FROM authorisations") for w in ("worker-a", "worker-b"))
    assert rows == total["processed"]
    assert summary["node_states"]["worker-b"]["state"] == "killed"


@pytest.mark.timeout(90)
def test_late_subscriber_misses_early_messages(lab):
    topo = example("08")
    topo.node("prices").count = 3000  # 3 s at 1000/s
    topo.node("latecomer").join_after_ms = 1200
    summary, sup = lab.run(topo)
    on_time, late = summary["links"]["prices->dashboard"], summary["links"]["prices->latecomer"]
    assert on_time["processed"] == 3000 and on_time["lost"] == 0
    assert 0 < late["processed"] < 3000, "joined late: fewer than sent, but not nothing"
    assert late["lost"] == 3000 - late["processed"]
    assert summary["total"]["duplicates_delivered"] == 0
    assert events(sup, "joined", "latecomer")


@pytest.mark.timeout(90)
def test_slow_subscriber_past_high_water_mark_loses_while_publisher_never_blocks(lab):
    topo = Topology(
        name="slow-subscriber",
        nodes=[ClientNode(name="feed", style="publish-subscribe", transport="zmq", rate=500,
                          count=1000, payload_bytes=65536),
               ServiceNode(name="slow", processing_ms=20, reply=False, hwm=10)],
        links=[{"from": "feed", "to": "slow", "hwm": 10}],
    )
    behind_when_done: list[int] = []

    def watch(sup):
        if not behind_when_done and sup.states()["feed"] in ("done", "exited"):
            behind_when_done.append(sup.metrics.totals("slow").get("delivered", 0))

    summary, sup = lab.run(topo, on_tick=watch, drain_timeout_s=5.0)
    feed, slow = summary["nodes"]["feed"], summary["links"]["feed->slow"]
    assert feed["sent"] == 1000 and feed["errors"] == 0, feed
    assert slow["processed"] < 1000 and slow["lost"] == 1000 - slow["processed"], slow
    # The publisher finished all 1000 while the subscriber (20 ms each) had handled a fraction:
    # it never waited for it.
    assert behind_when_done and behind_when_done[0] < 500, behind_when_done
    assert events(sup, "done", "feed")


@pytest.mark.timeout(90)
def test_lazy_pirate_recovers_when_the_service_comes_back(lab):
    topo = example("02")
    topo.node("pricing-client").count = 700
    topo.node("pricing-client").retries = 30  # 9 s of retries: room for a slow restart
    topo.scenario = [Step(action=Action.KILL, target="pricing", at_s=1.0),
                     Step(action=Action.START, target="pricing", at_s=2.0)]
    summary, sup = lab.run(topo)
    client = summary["nodes"]["pricing-client"]
    assert client["sent"] == client["acknowledged"] == 700
    assert client["timeouts"] > 0 and client["retries"] > 0
    assert summary["nodes"]["pricing"]["duplicates_processed"] == 0
    assert summary["total"]["lost"] == 0 and summary["total"]["in_doubt"] == 0
    assert summary["node_states"]["pricing-client"]["exit_code"] == 0
    assert summary["node_states"]["pricing"]["lives"] == 2


@pytest.mark.timeout(90)
def test_lazy_pirate_gives_up_cleanly_when_the_service_stays_down(lab):
    topo = example("02")
    client = topo.node("pricing-client")
    client.retries, client.timeout_ms = 2, 200
    topo.scenario = [Step(action=Action.KILL, target="pricing", at_s=1.0)]
    summary, sup = lab.run(topo, duration=30)
    node = summary["nodes"]["pricing-client"]
    state = summary["node_states"]["pricing-client"]
    assert state["state"] == "exited" and state["exit_code"] == EXIT_GAVE_UP
    assert node["gave_up"] == 1 and node["errors_by_kind"].get("gave-up") == 1
    # the request it gave up on: first try + 2 retries, each timed out; every other timeout (a
    # loaded machine can miss 200 ms while the service lives) was retried and then answered
    assert node["retries"] >= 2 and node["timeouts"] == node["retries"] + 1
    log = (sup.table.nodes["pricing-client"].log_path).read_text()
    last = node["sent"] - 1  # sequence numbers start at 0: the last one sent is the one given up
    assert log.count(f"no reply to pricing-client:{last} within 200 ms") == 2
    assert f"gave up: no reply to pricing-client:{last} after 2 retries" in log
    # the request it gave up on: the service died before committing it (in doubt), or after
    # the commit and before the reply (processed, never acknowledged)
    assert node["sent"] < 1000 and node["sent"] - node["acknowledged"] == 1 and node["lost"] == 0
    assert node["in_doubt"] + (node["processed"] - node["acknowledged"]) == 1
    assert events(sup, "gave-up", "pricing-client")
    assert "abandoning" in log


@pytest.mark.timeout(90)
def test_plain_req_hangs_while_the_service_is_gone(lab):
    topo = example("02")
    topo.node("pricing-client").lazy_pirate = False
    # The kill comes once the second request is sent, while the service works 1 s on it. A kill
    # at a set time (1.0 s, with 200 ms a request) caught the service between two requests in a
    # suite run: the next request waited in the client's pipe, went to the new life and was
    # answered, and nothing hung.
    topo.node("pricing").processing_ms = 1000
    topo.scenario = [Step(action=Action.KILL, target="pricing", after_messages=2),
                     Step(action=Action.START, target="pricing", at_s=2.0)]
    acked_after: list[float] = []

    def watch(sup):
        if sup.elapsed() > 3.0:  # well after the service is back
            acked_after.append(sup.metrics.totals("pricing-client").get("acknowledged", 0))

    summary, sup = lab.run(topo, duration=4.5, on_tick=watch)
    node = summary["nodes"]["pricing-client"]
    assert node["acknowledged"] == 1  # the first request; the second is the one the kill took
    assert node["timeouts"] == 0 and node["retries"] == 0, "a plain REQ neither times out nor retries"
    assert node["sent"] - node["acknowledged"] == 1, "stuck on the one request the dead service took"
    assert len(set(acked_after)) == 1, "no progress even though the service came back"
    assert not events(sup, "done", "pricing-client")
    assert summary["node_states"]["pricing"]["lives"] == 2
