"""Broker internals over the management API, on real RabbitMQ nodes the lab starts.

A consumer that never acks holds exactly its prefetch: the broker shows
`unacked == prefetch` and the rest ready; killed, it gives them back and the
broker redelivers them to its next life (the queue's `redeliver` count). A
broker killed and started again keeps what was durable and persistent; a
non-durable queue comes back empty (or not at all), and a durable queue of
transient messages comes back without them: the summary says so per queue,
next to the ledger's exact `lost`.
"""

from __future__ import annotations

import csv
import textwrap
import time

import pytest

from engines.runtime.supervisor import Supervisor
from engines.topology import topofile
from tests.brokers.conftest import assert_no_broker_left

pytestmark = pytest.mark.rabbitmq

NEVER_ACKS = """
    version: 1
    name: never-acks
    nodes:
      - {name: jobs, kind: client, style: notification, transport: amqp, rate: 0, count: 50}
      - {name: rabbit, kind: broker}
      - {name: hoarder, kind: service, reply: false, ack: never, prefetch: 10}
    links:
      - {from: jobs, to: rabbit, channel: work}
      - {from: rabbit, to: hoarder, channel: work}
    scenario:
      - {action: pause, target: hoarder, at_s: 300}  # never fires: holds the run open
    """


def _drive(sup: Supervisor, phases: list, limit_s: float = 120.0) -> dict:
    """Run `sup` until each phase's test passed (then its action ran), or the limit."""
    state = {"at": 0, "seen": []}
    deadline = time.monotonic() + limit_s

    def tick(s: Supervisor) -> None:
        if state["at"] >= len(phases):
            return
        test, action = phases[state["at"]]
        seen = test(s)
        if seen:
            state["seen"].append(seen)
            state["at"] += 1
            if action is not None:
                action(s)

    summary = sup.run(on_tick=tick, should_stop=lambda: state["at"] >= len(phases)
                      or time.monotonic() > deadline)
    return {"summary": summary, "seen": state["seen"], "done": state["at"] >= len(phases)}


def _queue(sup: Supervisor, name: str):
    latest = sup.internals.latest("rabbit") if sup.internals is not None else None
    return latest[1].queues.get(name) if latest else None


@pytest.mark.timeout(240)
def test_a_consumer_that_never_acks_holds_its_prefetch_and_gets_it_redelivered(tmp_path):
    topo = topofile.loads(textwrap.dedent(NEVER_ACKS)).topology
    sup = Supervisor(topo, tmp_path / "run", ready_timeout_s=90.0)
    try:
        def holding(s):
            q = _queue(s, "work")
            return q if q is not None and q.ready == 40 and q.unacked == 10 else None

        def restarted(s):
            return s.states().get("hoarder") == "killed" and (s.start_node("hoarder") or True)

        def redelivered(s):
            q = _queue(s, "work")
            return q if q is not None and q.redelivered >= 10 and q.unacked == 10 else None

        out = _drive(sup, [(holding, lambda s: s.kill("hoarder")), (restarted, None), (redelivered, None)])
        assert out["done"], out["seen"]
        held, _, again = out["seen"]
        assert (held.ready, held.unacked, held.consumers) == (40, 10, 1)  # prefetch 10, the rest ready
        assert again.ready == 40 and again.redelivered >= 10  # the 10 it held came back, flagged
        peaks = out["summary"]["broker_queues"]["rabbit/work"]
        assert peaks["unacked_max"] == 10 and peaks["ready_max"] >= 40
        with open(tmp_path / "run" / "internals.csv", encoding="utf-8") as fh:
            rows = [r for r in csv.DictReader(fh) if r["queue"] == "work"]
        assert any(r["ready"] == "40" and r["unacked"] == "10" for r in rows)
    finally:
        sup.close()
    assert_no_broker_left(tmp_path / "run")


OUTAGE = """
    version: 1
    name: what-survives
    nodes:
      - {name: durable-orders, kind: client, style: notification, transport: amqp, rate: 0, count: 200}
      - {name: transient-orders, kind: client, style: notification, transport: amqp, rate: 0,
         count: 200, persistent: false}
      - {name: scratch-orders, kind: client, style: notification, transport: amqp, rate: 0, count: 200}
      - {name: rabbit, kind: broker}
      - {name: keeper, kind: service, reply: false, prefetch: 1, processing_ms: 40}
      - {name: forgetter, kind: service, reply: false, prefetch: 1, processing_ms: 40}
      - {name: scratcher, kind: service, reply: false, prefetch: 1, processing_ms: 40}
    links:
      - {from: durable-orders, to: rabbit, channel: kept}
      - {from: rabbit, to: keeper, channel: kept}
      - {from: transient-orders, to: rabbit, channel: transient}
      - {from: rabbit, to: forgetter, channel: transient}
      - {from: scratch-orders, to: rabbit, channel: scratch, durable: false}
      - {from: rabbit, to: scratcher, channel: scratch, durable: false}
    scenario:
      - {action: kill, target: rabbit, at_s: 3}
      - {action: start, target: rabbit, at_s: 4}
    """


@pytest.mark.timeout(300)
def test_what_survives_a_broker_kill_and_restart(tmp_path):
    topo = topofile.loads(textwrap.dedent(OUTAGE)).topology
    sup = Supervisor(topo, tmp_path / "run", ready_timeout_s=90.0)
    try:
        summary = sup.run()
    finally:
        sup.close()
    assert_no_broker_left(tmp_path / "run")
    [outage] = summary["broker_survival"]
    assert (outage["broker"], outage["how"]) == ("rabbit", "kill")
    rows = {r["queue"]: r for r in outage["queues"]}
    kept, transient, scratch = rows["kept"], rows["transient"], rows["scratch"]
    # durable queue, persistent messages: back after the restart, nothing lost by the ledger
    assert kept["before"] > 0 and kept["after"] > 0 and not kept["gone"]
    assert kept["ledger_lost"] == 0 == summary["nodes"]["keeper"]["lost"]
    # durable queue, transient messages: the queue came back empty; the ledger counts each
    assert not transient["gone"] and transient["after"] == 0
    assert transient["ledger_lost"] == summary["nodes"]["forgetter"]["lost"] > 0
    assert transient["before"] >= transient["ledger_lost"]  # sampled up to 1 s before the kill
    # a non-durable queue went with the broker (a consumer declares a new, empty one)
    assert scratch["durable"] is False and scratch["dropped"] == scratch["before"] > 0
    assert scratch["ledger_lost"] == summary["nodes"]["scratcher"]["lost"] > 0
    assert "not durable" in scratch["why"] and "transient" in transient["why"]
