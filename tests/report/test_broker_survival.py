"""What survived an outage, from samples and events (unit: no broker), and the report's section."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timezone

from engines.brokers.internals import QueueInside
from engines.brokers.survival import outages, survival
from engines.report.internals import section
from engines.topology import topofile
from engines.transports import amqp_streams

TOPO = textwrap.dedent("""
    version: 1
    name: survive
    nodes:
      - {name: keep, kind: client, style: notification, transport: amqp, count: 10}
      - {name: drop, kind: client, style: notification, transport: amqp, count: 10, persistent: false}
      - {name: rabbit, kind: broker}
      - {name: a, kind: service}
      - {name: b, kind: service}
    links:
      - {from: keep, to: rabbit, channel: kept}
      - {from: rabbit, to: a, channel: kept}
      - {from: drop, to: rabbit, channel: gone, durable: false}
      - {from: rabbit, to: b, channel: gone, durable: false}
    """)

EVENTS = [{"t": 1.0, "event": "run-started", "origin_t": 1.0},
          {"t": 5.0, "event": "killed", "node": "rabbit", "role": "broker"},
          {"t": 6.0, "event": "starting", "node": "rabbit", "action": "start"},
          {"t": 9.0, "event": "ready", "node": "rabbit", "role": "broker"},
          {"t": 20.0, "event": "exited", "node": "rabbit"}]


def test_an_outage_per_kill_and_what_each_queue_kept():
    topology = topofile.loads(TOPO).topology
    assert outages(EVENTS, "rabbit") == [("kill", 5.0, 9.0)]  # the final stop has no comeback
    samples = [
        (4.5, "rabbit", {"kept": QueueInside("kept", ready=7, unacked=1),
                         "gone": QueueInside("gone", durable=False, ready=6, unacked=2)}),
        (9.5, "rabbit", {"kept": QueueInside("kept", ready=8)}),
    ]
    links = {"rabbit->a": {"lost": 0}, "rabbit->b": {"lost": 8}}
    [outage] = survival(samples, EVENTS, topology, links, origin_t=1.0)
    assert (outage["down_at_s"], outage["ready_at_s"]) == (4.0, 8.0)
    rows = {r["queue"]: r for r in outage["queues"]}
    assert rows["kept"]["before"] == 8 and rows["kept"]["after"] == 8
    assert rows["kept"]["ledger_lost"] == 0 and "persistent" in rows["kept"]["why"]
    assert rows["gone"]["gone"] and rows["gone"]["dropped"] == 8 and rows["gone"]["ledger_lost"] == 8
    assert "not durable" in rows["gone"]["why"]


def test_the_report_section_tables_each_outage(tmp_path):
    (tmp_path / "internals.csv").write_text(
        "t_s,broker,queue,type,durable,ready,unacked,redelivered,consumers\n"
        "2.0,rabbit,kept,classic,1,5,1,0,1\n2.5,rabbit,kept,classic,1,6,1,0,1\n", encoding="utf-8")
    topology = topofile.loads(TOPO).topology
    samples = [(4.5, "rabbit", {"kept": QueueInside("kept", ready=7, unacked=1)}),
               (9.5, "rabbit", {"kept": QueueInside("kept", ready=8)})]
    summary = {"broker_queues": {"rabbit/kept": {"ready_max": 6, "unacked_max": 1, "redelivered": 0,
                                                 "durable": 1}},
               "broker_survival": survival(samples, EVENTS, topology, {}, 1.0)}
    html = section(tmp_path, json.loads(json.dumps(summary)), 1.0, [], 20.0)
    assert "Inside the brokers" in html and "What survived: rabbit kill at 4.0 s" in html
    assert "<td>kept</td>" in html and (tmp_path / "internals.png").exists()
    assert section(tmp_path, {}, 0.0, [], 1.0) == ""


def test_stream_offsets_and_the_reread_request(tmp_path):
    assert amqp_streams.offset_problem("time:2.5s") is None
    assert "not a stream offset" in (amqp_streams.offset_problem("time:2.5") or "")
    when = amqp_streams.x_stream_offset("time:2.5s", 1000.0)
    assert when == datetime.fromtimestamp(1002.5, tz=timezone.utc)
    assert amqp_streams.x_stream_offset("42", None) == 42
    node_dir = tmp_path / "nodes" / "projector"
    node_dir.mkdir(parents=True)
    amqp_streams.write_origin(tmp_path, 0.0)
    assert amqp_streams.read_origin(node_dir) is not None
    assert amqp_streams.take_reread(node_dir) is None
    amqp_streams.request_reread(node_dir, "first")
    assert amqp_streams.take_reread(node_dir) == "first"
    assert amqp_streams.take_reread(node_dir) is None  # taken once
