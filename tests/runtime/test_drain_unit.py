"""The end of a run waits for a consumer that still has a queue to take (engines.runtime.drain).

Fakes stand in for the supervisor's live telemetry: the behaviour against a
real cluster (a consumer failing over from a paused quorum leader) is example 23.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from engines.runtime import drain
from engines.runtime.drain import wait_drained
from engines.runtime.proctable import NodeProcess
from engines.runtime.specs import Route, RunPlan
from engines.topology import topofile

TOPOLOGY = """
version: 1
name: drain
nodes:
  - {name: orders, kind: client, style: notification, transport: amqp, rate: 0, count: 10}
  - {name: rabbit, kind: broker}
  - {name: billing, kind: service}
links:
  - {from: orders, to: rabbit, channel: orders}
  - {from: rabbit, to: billing, channel: orders}
"""


class FakeMetrics:
    """Telemetry totals: `orders` sent 10, `billing` took `got` of them."""

    def __init__(self, got: int) -> None:
        self.got = got

    def totals(self, node: str) -> dict[str, int]:
        return {"sent": 10} if node == "orders" else {}

    def by_client(self, node: str) -> list[int]:
        return [self.got] if node == "billing" else []


class FakeDepths:
    """A queue depth monitor whose latest sample of rabbit/orders was taken `age_s` ago."""

    def __init__(self, ready: int, age_s: float = 0.0, consumers: int = 0) -> None:
        self.t0 = time.monotonic()
        self.ready, self.age_s, self.consumers = ready, age_s, consumers

    def latest(self) -> dict[tuple[str, str], tuple[float, int, int]]:
        t = time.monotonic() - self.t0 - self.age_s
        return {("rabbit", "orders"): (t, self.ready, self.consumers)}


def _sup(tmp_path: Path, state: str, depths: FakeDepths | None, got: int = 7) -> Any:
    plan = RunPlan(clients={"orders": 0},
                   audience={"orders": [Route("billing", "rabbit->billing", "orders->rabbit")]})
    billing = NodeProcess("billing", "service", tmp_path, state=state)
    return SimpleNamespace(topology=topofile.loads(TOPOLOGY).topology, plan=plan, metrics=FakeMetrics(got),
                           table=SimpleNamespace(nodes={"billing": billing}), queue_depths=depths,
                           queue_consumers={("rabbit", "orders"): ["billing"]},
                           drain_quiet_s=0.3, drain_timeout_s=2.0, _lock=threading.RLock())


def _drain_time(sup: Any) -> float:
    began = time.monotonic()
    wait_drained(sup)
    return time.monotonic() - began


@pytest.mark.timeout(10)
def test_messages_in_a_queue_whose_consumer_is_failing_over_keep_the_run_from_ending(tmp_path):
    sup = _sup(tmp_path, "ready", FakeDepths(ready=3))
    threading.Timer(1.0, lambda: setattr(sup.metrics, "got", 10)).start()  # the failover completes
    assert 0.9 < _drain_time(sup) < 1.8  # waited past the quiet time, ended once caught up


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("state", "ready", "age_s", "consumers"), [
    ("crashed", 3, 0.0, 0),  # nobody left to take them: they are lost, the run need not wait
    ("paused", 3, 0.0, 0),  # a stopped consumer takes nothing
    ("ready", 0, 0.0, 0),  # nothing in the queue: the missing ones are not there to wait for
    ("ready", 3, 30.0, 0),  # the broker stopped answering long ago (dead): no fresh news
    ("ready", 3, 30.0, 1),  # the same with a consumer attached at its last answer
    ("crashed", 3, 0.0, 1),  # the broker has not noticed yet that its consumer died
])
def test_the_quiet_time_ends_the_run_when_no_consumer_will_take_what_is_queued(tmp_path, state, ready, age_s,
                                                                               consumers):
    assert _drain_time(_sup(tmp_path, state, FakeDepths(ready, age_s, consumers))) < 0.8


@pytest.mark.timeout(10)
def test_an_attached_consumer_starved_of_cpu_is_waited_for_while_it_still_takes_its_queue(tmp_path, monkeypatch):
    """Under heavy load a consumer can commit nothing for longer than the quiet time and still be
    taking its queue: its messages are not lost, and the run waits for them."""
    monkeypatch.setattr(drain, "QUEUE_STALL_S", 1.0)
    depths = FakeDepths(ready=3, consumers=1)
    sup = _sup(tmp_path, "ready", depths)
    for i, at in enumerate((0.6, 1.2, 1.8)):  # a commit every 0.6 s: twice the quiet time
        threading.Timer(at, lambda got=8 + i: (setattr(sup.metrics, "got", got),
                                               setattr(depths, "ready", 10 - got))).start()
    sup.drain_timeout_s = 5.0
    assert 1.7 < _drain_time(sup) < 2.4  # ended when caught up (10 of 10), not at the quiet time


@pytest.mark.timeout(10)
def test_an_attached_consumer_that_takes_nothing_ends_the_run_after_the_stall_time(tmp_path, monkeypatch):
    """A full prefetch never acked: the consumer is attached and alive, and takes nothing."""
    monkeypatch.setattr(drain, "QUEUE_STALL_S", 1.0)
    assert 0.9 < _drain_time(_sup(tmp_path, "ready", FakeDepths(ready=3, consumers=1))) < 1.5


@pytest.mark.timeout(10)
def test_a_restarting_consumer_counts_as_one_that_will_take_them(tmp_path):
    sup = _sup(tmp_path, "crashed", FakeDepths(ready=3))
    sup.table.nodes["billing"].start_pending = True
    assert 1.9 < _drain_time(sup) < 2.6  # waited up to drain_timeout_s, not the quiet time


def test_a_stream_is_not_a_queue_the_end_of_a_run_waits_on():
    """A stream's count is its whole log: a consumer attached at 'time:4s' never reads the first
    seconds, and the run must end on the quiet time, not wait for them until drain_timeout_s."""
    from engines.brokers.plan import queue_consumers

    classic = topofile.loads(TOPOLOGY).topology
    assert queue_consumers(classic) == {("rabbit", "orders"): ["billing"]}
    stream = topofile.loads(TOPOLOGY.replace("{from: rabbit, to: billing, channel: orders}",
                                             "{from: rabbit, to: billing, channel: orders, queue_type: stream}"))
    assert queue_consumers(stream.topology) == {}


@pytest.mark.timeout(10)
def test_redeliveries_counted_twice_do_not_end_the_run_while_the_queue_still_holds_messages(tmp_path):
    """Example 12 in a loaded suite: after a broker restart the consumer got 76 redeliveries, so
    its deliveries reached the 2,000 sent while 15 were still in the queue; the run ended and
    called them lost. Counts caught up, a fresh sample with ready messages for an attached,
    live consumer: wait until the queue is empty."""
    depths = FakeDepths(ready=15, consumers=1)
    sup = _sup(tmp_path, "ready", depths, got=12)  # 10 sent; 2 of the 12 deliveries were redeliveries
    threading.Timer(1.0, lambda: setattr(depths, "ready", 0)).start()  # the consumer takes the rest
    assert 0.9 < _drain_time(sup) < 1.5
