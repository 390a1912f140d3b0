"""Pirate queues (the zguide, chapter 4) with real processes and sockets: Lazy Pirate clients, a
queue node, worker services with their ledger; workers killed, the queue killed and restarted.

Assertions are exact bookkeeping and directions, never speeds.
"""

from __future__ import annotations

import pytest

from engines.topology.model import Action, ClientNode, PirateMode, ServiceNode, Step, Topology
from tests.runtime.conftest import example


def _queue_with_a_dead_worker() -> Topology:
    return Topology(
        name="simple-pirate-dead-worker",
        nodes=[ClientNode(name="c", rate=100, count=300, timeout_ms=500, retries=5),
               ServiceNode(name="queue", pirate=PirateMode.SIMPLE),
               ServiceNode(name="a", processing_ms=5, store="work"),
               ServiceNode(name="b", processing_ms=5, store="work")],
        links=[{"from": "c", "to": "queue"}, {"from": "queue", "to": "a"}, {"from": "queue", "to": "b"}],
        scenario=[Step(action=Action.KILL, target="b", at_s=1.0)],
    )


@pytest.mark.timeout(180)
def test_simple_pirate_loses_the_request_a_dead_worker_was_given_and_the_client_retries_it(lab):
    summary, _sup = lab.run(_queue_with_a_dead_worker())
    total, queue = summary["total"], summary["nodes"]["queue"]
    assert summary["node_states"]["b"]["state"] == "killed"
    assert total["sent"] == 300 and total["acknowledged"] == 300 and total["lost"] == 0, total
    assert total["duplicates_processed"] == 0, total
    assert queue["pirate_registrations"] == 2 and queue["pirate_purged"] == 0, queue
    # the queue gave a request to the dead worker (the one it held, or the next one: a Simple
    # Pirate queue cannot tell it is dead), so it forwarded more than came back
    vanished = queue["pirate_forwarded"] - queue["pirate_replies"]
    assert vanished >= 1, queue
    assert total["retries"] >= vanished, total
    assert summary["links"]["queue->a"]["processed"] + summary["links"]["queue->b"]["processed"] == 300
    assert summary["links"]["c->queue"]["acknowledged"] == 300
    assert summary["nodes"]["a"]["pirate_ready_sent"] == 1


@pytest.mark.timeout(240)
def test_paranoid_pirate_purges_a_dead_worker_and_its_workers_register_again_after_a_queue_restart(lab):
    summary, _sup = lab.run(example("42"))
    total, queue = summary["total"], summary["nodes"]["queue"]
    assert summary["node_states"]["queue"]["lives"] == 2
    assert total["sent"] == 800 and total["acknowledged"] == 800 and total["lost"] == 0, total
    assert total["duplicates_processed"] == 0 and total["retries"] >= 1, total
    assert queue["pirate_purged"] >= 1, queue  # worker-c, dead while idle
    for worker in ("worker-a", "worker-b"):
        node = summary["nodes"][worker]
        # liveness spent while the queue was away: a new socket and a new READY each time
        assert node["pirate_reconnects"] >= 1, node
        assert node["pirate_ready_sent"] == 1 + node["pirate_reconnects"], node
    # three in the first life; the two live workers again in the second, with new identities
    assert queue["pirate_registrations"] >= 5 and queue["pirate_stranded"] == 0, queue


@pytest.mark.timeout(240)
def test_simple_pirate_workers_are_stranded_by_a_queue_restart(lab):
    summary, _sup = lab.run(example("43"))
    total, queue = summary["total"], summary["nodes"]["queue"]
    assert summary["node_states"]["queue"]["lives"] == 2
    assert queue["pirate_registrations"] == 2, queue  # the first life only
    assert queue["pirate_stranded"] == 2, queue  # both reconnected, neither said READY again
    for worker in ("worker-a", "worker-b"):
        assert summary["nodes"][worker]["pirate_ready_sent"] == 1
    for client in ("shop", "till"):
        node = summary["nodes"][client]
        assert summary["node_states"][client]["exit_code"] == 3, node  # gave up (EXIT_GAVE_UP)
        assert node["gave_up"] == 1 and node["acknowledged"] < node["sent"] < 400, node
    assert total["lost"] == 0 and total["duplicates_processed"] == 0, total


def _queues_gone_for_good() -> Topology:
    """Two Paranoid Pirate queues killed for good at 1 s; their workers back off differently."""
    nodes: list[ClientNode | ServiceNode] = []
    links = []
    for side, most in (("short", 400), ("long", 3200)):
        nodes += [ClientNode(name=f"c-{side}", rate=20, count=10_000, timeout_ms=1000, retries=30),
                  ServiceNode(name=f"q-{side}", pirate=PirateMode.PARANOID, pirate_heartbeat_ms=150,
                              pirate_liveness=2, pirate_interval_init_ms=200, pirate_interval_max_ms=most),
                  ServiceNode(name=f"w-{side}")]
        links += [{"from": f"c-{side}", "to": f"q-{side}"}, {"from": f"q-{side}", "to": f"w-{side}"}]
    return Topology(name="pirate-back-off", duration_s=7.0, nodes=nodes, links=links,
                    scenario=[Step(action=Action.KILL, target="q-short", at_s=1.0),
                              Step(action=Action.KILL, target="q-long", at_s=1.0)])


@pytest.mark.timeout(180)
def test_paranoid_pirate_workers_back_off_doubling_from_interval_init_to_interval_max(lab):
    summary, sup = lab.run(_queues_gone_for_good())
    waits: dict[str, list[str]] = {}
    for side in ("short", "long"):
        log = sup.table.nodes[f"w-{side}"].log_path.read_text()
        waits[side] = [line.rsplit("reconnecting in ", 1)[1].split(" s")[0]
                       for line in log.splitlines() if "reconnecting in " in line]
        node = summary["nodes"][f"w-{side}"]
        assert node["pirate_reconnects"] >= 1 and node["pirate_ready_sent"] == 1 + node["pirate_reconnects"]
        # liveness 2: two silent heartbeat intervals before each reconnect
        assert node["pirate_queue_silent"] >= 2 * node["pirate_reconnects"], node
    # the back-off doubles from INTERVAL_INIT and stays at INTERVAL_MAX; anything heard from the
    # queue resets it (on a loaded machine a starved worker may miss beats while the queue lives:
    # the outage is the run of waits after the last reset)
    outage = {side: w[len(w) - 1 - w[::-1].index("0.2"):] for side, w in waits.items()}
    assert len(outage["short"]) >= 4 and len(outage["long"]) >= 3, waits
    assert outage["short"] == ["0.2", "0.4", *["0.4"] * (len(outage["short"]) - 2)], waits
    assert outage["long"] == ["0.2", "0.4", "0.8", "1.6", "3.2", "3.2"][:len(outage["long"])], waits
    assert len(outage["short"]) > len(outage["long"]), waits  # a lower ceiling retries more often
