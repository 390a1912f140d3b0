"""Consumers on the real broker, through the runtime (one shared node).

A consumer that commits but never acks holds its prefetch: the broker gives
it exactly `prefetch` messages and no more, and its competing consumer gets
the rest; nothing is lost. A stuck (paused) consumer is dropped by the broker
after two missed heartbeats, and what it held is redelivered to the other.
Prefetch and fair dispatch: every other message heavy, unlimited prefetch
versus prefetch 1.
"""

from __future__ import annotations

import textwrap
import uuid

import pytest

from engines.topology import topofile
from tests.brokers.conftest import isolate

pytestmark = pytest.mark.rabbitmq

STUCK = """
    version: 1
    name: never-acks
    nodes:
      - {name: orders, kind: client, style: notification, transport: amqp, rate: 1000, count: 500}
      - {name: rabbit, kind: broker}
      - {name: stuck, kind: service, reply: false, ack: never, prefetch: 10}
      - {name: worker, kind: service, reply: false}
    links:
      - {from: orders, to: rabbit, channel: orders}
      - {from: rabbit, to: stuck, channel: orders}
      - {from: rabbit, to: worker, channel: orders}
    """


@pytest.mark.timeout(120)
def test_a_consumer_that_never_acks_holds_its_prefetch(lab, shared_broker):
    topo = isolate(topofile.loads(textwrap.dedent(STUCK)).topology, shared_broker.url,
                   uuid.uuid4().hex[:8])
    summary, _ = lab.run(topo)
    stuck, worker = summary["nodes"]["stuck"], summary["nodes"]["worker"]
    assert stuck["processed"] == stuck["amqp_received"] == 10 and stuck.get("amqp_acked", 0) == 0
    assert worker["processed"] >= 490  # the rest (and the 10, if it outlives the stuck one)
    assert summary["nodes"]["orders"]["lost"] == 0


HEARTBEATS = """
    version: 1
    name: heartbeats
    nodes:
      - {name: jobs, kind: client, style: notification, transport: amqp, rate: 100, count: 900}
      - {name: tasks, kind: client, style: notification, transport: amqp, rate: 100, count: 900}
      - {name: rabbit, kind: broker}
      - {name: sleepy, kind: service, reply: false, prefetch: 20, processing_ms: 20, heartbeat_s: 1}
      - {name: helper, kind: service, reply: false, processing_ms: 20}
      - {name: sleepy-deaf, kind: service, reply: false, prefetch: 20, processing_ms: 20, heartbeat_s: 0}
      - {name: helper-2, kind: service, reply: false, processing_ms: 20}
    links:
      - {from: jobs, to: rabbit, channel: jobs}
      - {from: tasks, to: rabbit, channel: tasks}
      - {from: rabbit, to: sleepy, channel: jobs}
      - {from: rabbit, to: helper, channel: jobs}
      - {from: rabbit, to: sleepy-deaf, channel: tasks}
      - {from: rabbit, to: helper-2, channel: tasks}
    scenario:
      - {action: pause, target: sleepy, after_messages: 300}
      - {action: pause, target: sleepy-deaf, after_messages: 300}
      - {action: resume, target: sleepy, after_messages: 1400}
      - {action: resume, target: sleepy-deaf, after_messages: 1400}
    """


@pytest.mark.timeout(180)
def test_heartbeats_let_the_broker_drop_a_stuck_consumer_and_redeliver(lab, shared_broker):
    """Both sleepy consumers are paused (SIGSTOP) for about five seconds holding deliveries.
    With 1 s heartbeats the broker drops the silent connection after two and hands what it
    held to the helper (redelivered); with heartbeats off it waits for it."""
    topo = isolate(topofile.loads(textwrap.dedent(HEARTBEATS)).topology, shared_broker.url,
                   uuid.uuid4().hex[:8])
    summary, _ = lab.run(topo)
    n = summary["nodes"]
    assert n["helper"]["redelivered"] > 0 and n["sleepy"]["connection_losses"] >= 1
    assert n["helper-2"]["redelivered"] == 0 and n["sleepy-deaf"].get("connection_losses", 0) == 0
    assert n["jobs"]["lost"] == 0 and n["tasks"]["lost"] == 0


FAIRNESS = """
    version: 1
    name: fair-dispatch
    nodes:
      - {name: eager, kind: client, style: notification, transport: amqp, rate: 0, count: 400}
      - {name: fair, kind: client, style: notification, transport: amqp, rate: 0, count: 400}
      - {name: rabbit, kind: broker}
      - {name: e1, kind: service, reply: false, prefetch: 0, heavy_every: 2, heavy_ms: 10}
      - {name: e2, kind: service, reply: false, prefetch: 0, heavy_every: 2, heavy_ms: 10}
      - {name: f1, kind: service, reply: false, prefetch: 1, heavy_every: 2, heavy_ms: 10}
      - {name: f2, kind: service, reply: false, prefetch: 1, heavy_every: 2, heavy_ms: 10}
    links:
      - {from: eager, to: rabbit, channel: eager}
      - {from: fair, to: rabbit, channel: fair}
      - {from: rabbit, to: e1, channel: eager}
      - {from: rabbit, to: e2, channel: eager}
      - {from: rabbit, to: f1, channel: fair}
      - {from: rabbit, to: f2, channel: fair}
    """


@pytest.mark.timeout(180)
def test_unlimited_prefetch_deals_every_other_heavy_message_to_one_consumer(lab, shared_broker):
    """Every other message is heavy. Unlimited prefetch deals messages round-robin as they
    arrive, so one consumer gets (nearly) every heavy one; prefetch 1 hands the next message
    to whoever is free, so both get heavy ones."""
    topo = isolate(topofile.loads(textwrap.dedent(FAIRNESS)).topology, shared_broker.url,
                   uuid.uuid4().hex[:8])
    summary, _ = lab.run(topo)
    n = summary["nodes"]
    eager = sorted(n[s].get("heavy", 0) for s in ("e1", "e2"))
    fair = sorted(n[s].get("heavy", 0) for s in ("f1", "f2"))
    assert sum(eager) == sum(fair) == 200  # messages 2, 4, ... 400, each handled once
    assert eager[0] <= 20  # one consumer got (nearly) all the heavy work
    assert fair[0] >= 40  # both did heavy work
    assert n["eager"]["lost"] == n["fair"]["lost"] == 0


BLOCKING = """
    version: 1
    name: blocking-handler
    nodes:
      - {name: jobs, kind: client, style: notification, transport: amqp, rate: 0, count: 2}
      - {name: tasks, kind: client, style: notification, transport: amqp, rate: 0, count: 2}
      - {name: rabbit, kind: broker}
      - {name: blocked, kind: service, reply: false, prefetch: 1, processing_ms: 3500, heartbeat_s: 1}
      - {name: threaded, kind: service, reply: false, prefetch: 1, processing_ms: 3500, heartbeat_s: 1,
         handler_thread: true}
    links:
      - {from: jobs, to: rabbit, channel: jobs}
      - {from: tasks, to: rabbit, channel: tasks}
      - {from: rabbit, to: blocked, channel: jobs}
      - {from: rabbit, to: threaded, channel: tasks}
    """


@pytest.mark.timeout(180)
def test_work_longer_than_the_heartbeat_gets_the_connection_dropped_unless_threaded(lab, shared_broker):
    """3.5 s of work per message with 1 s heartbeats: on the I/O loop (pika's blocking-connection
    trap) the broker drops the silent connection and redelivers what was committed but not
    acked, and the idempotent consumer refuses it; in a thread of its own nothing is dropped."""
    topo = isolate(topofile.loads(textwrap.dedent(BLOCKING)).topology, shared_broker.url,
                   uuid.uuid4().hex[:8])
    summary, _ = lab.run(topo, drain_quiet_s=8.0, drain_timeout_s=40.0)
    blocked, threaded = summary["nodes"]["blocked"], summary["nodes"]["threaded"]
    assert blocked["connection_losses"] >= 1 and blocked["redelivered"] >= 1
    assert blocked["duplicates_suppressed"] >= 1  # committed before the drop, delivered again
    assert threaded.get("connection_losses", 0) == 0 and threaded["redelivered"] == 0
    assert threaded["processed"] == 2 and threaded["duplicates_delivered"] == 0
