"""The pieces of the amqp drivers that need no broker: confirm window, declarations, channel specs."""

from __future__ import annotations

import textwrap

import pytest

from engines.brokers.plan import QUEUE_SETTINGS, link_specs, queue_names
from engines.topology import topofile
from engines.transports.amqp_declare import declare_operations
from engines.transports.amqp_publisher import ConfirmWindow

UNSET = {**{key: None for key in QUEUE_SETTINGS}, "exclusive": False, "auto_delete": False}


def test_confirm_window_settles_multiple_and_single_acks_once():
    window = ConfirmWindow(size=10)
    for seq in range(6):  # tags 1..6
        window.add(seq, 0, 1000 + seq)
    assert window.room() == 4
    assert window.settle(3, multiple=False) == [(2, 0, 1002)]
    assert window.settle(4, multiple=True) == [(0, 0, 1000), (1, 0, 1001), (3, 0, 1003)]
    assert window.settle(4, multiple=True) == []  # a repeated ack settles nothing
    assert window.overdue(deadline_ns=1004) == [(4, 0, 1004)]
    assert window.overdue(deadline_ns=2000) == [(5, 0, 1005)]  # each reported once
    assert window.drain() == [(4, 0, 1004), (5, 0, 1005)]
    assert len(window) == 0
    window.add(9, 1, 3000)  # a new channel numbers its deliveries from 1 again
    assert window.settle(1, multiple=True) == [(9, 1, 3000)]


def test_queue_arguments_are_only_what_the_file_sets():
    spec = {"exchange": "", "queues": [
        {"name": "q", "durable": True, "queue_type": "quorum", "delivery_limit": None},
        {"name": "l", "durable": True, "queue_type": "quorum", "delivery_limit": 4},
        {"name": "c", "durable": False, "queue_type": "classic"}]}
    ops = dict((kw["queue"], kw) for name, kw in declare_operations(spec) if name == "queue_declare")
    assert ops["q"]["arguments"] == {"x-queue-type": "quorum"}  # 3.10 has no default delivery limit
    assert ops["l"]["arguments"] == {"x-queue-type": "quorum", "x-delivery-limit": 4}
    assert ops["c"]["durable"] is False and ops["c"]["arguments"] is None


def test_prefetch_with_automatic_acks_is_a_warning():
    text = textwrap.dedent("""
        version: 1
        name: prefetch
        nodes:
          - {name: feed, kind: client, style: notification, transport: amqp}
          - {name: rabbit, kind: broker}
          - {name: a, kind: service, ack: auto, prefetch: 10}
          - {name: b, kind: service, ack: auto}
        links:
          - {from: feed, to: rabbit}
          - {from: rabbit, to: a}
          - {from: rabbit, to: b}
        """)
    loaded = topofile.loads(text)
    [warning] = loaded.warnings
    assert warning.node == "a" and "prefetch 10 is ignored with 'ack: auto'" in warning.message
    assert warning.line == 7  # the line of node a (after the leading blank line)
    assert topofile.dumps(loaded.topology).count("prefetch:") == 1  # a set it; for b it does not matter


def test_channel_specs_for_queue_and_publish_styles():
    topo = topofile.loads(textwrap.dedent("""
        version: 1
        name: specs
        nodes:
          - {name: orders, kind: client, style: notification, transport: amqp}
          - {name: news, kind: client, style: publish-subscribe, transport: amqp}
          - {name: rabbit, kind: broker}
          - {name: a, kind: service}
          - {name: b, kind: service}
        links:
          - {from: orders, to: rabbit, channel: work}
          - {from: news, to: rabbit, channel: feed, exchange_type: topic, routing_key: "eu.#"}
          - {from: rabbit, to: a, channel: work, queue_type: quorum}
          - {from: rabbit, to: b, channel: work, queue_type: quorum}
          - {from: rabbit, to: a, name: feed-a, channel: feed, durable: false, exchange_type: topic,
             routing_key: "eu.*"}
        """)).topology
    specs = link_specs(topo)
    work = specs["orders->rabbit"]
    assert work["exchange"] == "" and work["routing_key"] == "work" and not work["publish"]
    assert work["queues"] == [{"name": "work", "service": "a", "durable": True,
                               "queue_type": "quorum", "bind": None, **UNSET}]
    assert work["services"] == ["a", "b"]  # competing consumers of one queue
    assert specs["rabbit->b"]["consume"] == "work"
    feed = specs["feed-a"]
    assert feed["publish"] and feed["exchange"] == "feed" and feed["exchange_type"] == "topic"
    assert feed["consume"] == "feed.a"
    assert feed["queues"] == [{"name": "feed.a", "service": "a", "durable": False,
                               "queue_type": "classic", "bind": "eu.*", **UNSET}]
    assert specs["news->rabbit"]["routing_key"] == "eu.#"
    assert queue_names(topo) == {"rabbit": ["feed.a", "work"]}


def _rpc_client(tmp_path, style="async-request-response"):
    import logging
    import threading

    from engines.nodes.pacer import Pacer
    from engines.nodes.records import ClientRecorder
    from engines.transports.amqp_client import AmqpClient
    from engines.transports.base import ClientConfig, ClientContext, Peer

    stop = threading.Event()
    spec = {"name": "q", "publish": False, "exchange": "", "routing_key": "q", "queues": [],
            "services": ["svc-a", "svc-b"]}
    ctx = ClientContext(
        ClientConfig(name="c", style=style, transport="amqp", count=10), 0,
        [Peer("rabbit", "c->rabbit", 0, broker_url="amqp://u:p@127.0.0.1:1/%2F", channel=spec)],
        {}, Pacer(0, 10, stop), ClientRecorder(tmp_path / "rec.bin", 10), stop,
        logging.getLogger("c"), b"")
    return AmqpClient(ctx), ctx.recorder


class _Props:
    def __init__(self, correlation_id, app_id="svc-b"):
        self.correlation_id, self.app_id = correlation_id, app_id


def test_rpc_replies_to_unknown_or_repeated_ids_are_counted_and_dropped(tmp_path):
    from engines.transports import wire
    client, rec = _rpc_client(tmp_path)
    rec.sent(5)
    client.outstanding[5] = [0, 10**18, 1000, 0]
    reply = wire.pack(wire.REPLY, 0, 5, 0, 1000)
    client._on_reply(None, None, _Props("5"), reply)
    assert rec.is_acked(5) and 5 not in client.outstanding
    client._on_reply(None, None, _Props("5"), reply)  # the same answer again
    client._on_reply(None, None, _Props("7"), wire.pack(wire.REPLY, 0, 7, 0, 1))  # never asked
    client._on_reply(None, None, _Props("x"), reply)  # not a correlation ID of ours
    client._on_reply(None, None, _Props("6"), reply)  # header and correlation ID disagree
    counters = rec.snapshot()["c"]
    assert counters["replies"] == 1 and counters["acknowledged"] == 1
    assert counters["duplicate_replies"] == 1 and counters["late_replies"] == 1
    assert rec.snapshot()["errors_by_kind"] == {"malformed": 2}
    assert rec.snapshot()["peer_replies"] == [0, 1]  # svc-b is peer 1 of the channel


@pytest.mark.timeout(60)
def test_a_client_gives_up_in_doubt_messages_when_the_broker_never_returns(tmp_path):
    """After its last send, a client whose broker stays away ends (bounded), giving up the rest."""
    import time

    client, rec = _rpc_client(tmp_path, style="notification")
    client.pacer.limit = 0  # nothing more to send
    rec.sent(3)
    client.resend.append((3, 0))  # in doubt from a connection that died
    started = time.monotonic()
    client.run()  # nothing listens on port 1: every reconnect fails
    assert 5 <= time.monotonic() - started < 30
    counters = rec.snapshot()["c"]
    assert counters["gave_up"] == 1 and counters["errors"] >= 3
    assert rec.snapshot()["errors_by_kind"]["connection"] == counters["errors"] - 1


def _problems(nodes: str, links: str):
    import yaml

    from engines.topology import validation
    from engines.topology.model import Topology

    data = yaml.safe_load(textwrap.dedent("""
        version: 1
        name: dl
        nodes:
          - {name: feed, kind: client, style: notification, transport: amqp}
          - {name: rabbit, kind: broker}
        links:
          - {from: feed, to: rabbit, channel: work}
        """))
    data["nodes"] += yaml.safe_load(textwrap.dedent(nodes))
    data["links"] += yaml.safe_load(textwrap.dedent(links))
    return validation.validate(Topology.model_validate(data))


def test_dead_letter_and_reject_settings_are_checked_before_the_run():
    worker = "- {name: w, kind: service}"
    [p] = _problems(worker, "- {from: rabbit, to: w, dead_letter_exchange: ''}")
    assert "keep their routing key" in p.message and p.path[-1] == "dead_letter_routing_key"
    [p] = _problems(worker, "- {from: rabbit, to: w, dead_letter_exchange: '', "
                            "dead_letter_routing_key: work}")
    assert "which a client sends to" in p.message
    [p] = _problems(worker, "- {from: rabbit, to: w, dead_letter_exchange: '', "
                            "dead_letter_routing_key: dead}")
    assert p.severity.value == "warning" and "pile up in queue 'dead'" in p.message
    assert not _problems(worker + "\n- {name: m, kind: service}",
                         "- {from: rabbit, to: w, dead_letter_exchange: dlx}\n"
                         "- {from: rabbit, to: m, channel: dlx}")
    [p] = _problems("- {name: w, kind: service, ack: auto, reject: nth}", "- {from: rabbit, to: w}")
    assert "cannot reject" in p.message
    [p] = _problems("- {name: w, kind: service, reject: failed}", "- {from: rabbit, to: w}")
    assert "needs messages that fail" in p.message
    [p] = _problems("- {name: w, kind: service, fail_every: 3}", "- {from: rabbit, to: w}")
    assert "reject: failed" in p.hint


def test_dead_letter_specs_are_declared_before_the_queue_that_uses_them():
    topo = topofile.loads(textwrap.dedent("""
        version: 1
        name: dl
        nodes:
          - {name: feed, kind: client, style: notification, transport: amqp}
          - {name: rabbit, kind: broker}
          - {name: w, kind: service}
          - {name: m, kind: service}
        links:
          - {from: feed, to: rabbit, channel: work}
          - {from: rabbit, to: w, channel: work, dead_letter_exchange: "", dead_letter_routing_key: dead}
          - {from: rabbit, to: m, channel: dead}
        """)).topology
    specs = link_specs(topo)
    ops = declare_operations(specs["feed->rabbit"])
    assert [(name, kw["queue"]) for name, kw in ops] == [("queue_declare", "dead"), ("queue_declare", "work")]
    assert ops[1][1]["arguments"] == {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dead"}
    assert specs["rabbit->m"]["consume"] == "dead"
    assert queue_names(topo) == {"rabbit": ["dead", "work"]}


def test_mandatory_replies_to_direct_reply_to_are_a_warning():
    text = textwrap.dedent("""
        version: 1
        name: direct
        nodes:
          - {name: caller, kind: client, style: request-response, transport: amqp, reply_to: direct}
          - {name: rabbit, kind: broker}
          - {name: svc, kind: service, reply_mandatory: true}
        links:
          - {from: caller, to: rabbit}
          - {from: rabbit, to: svc}
        """)
    loaded = topofile.loads(text)
    [warning] = loaded.warnings
    assert warning.node == "svc" and "RabbitMQ 3.10 returns every mandatory reply" in warning.message
    dumped = topofile.dumps(loaded.topology)
    assert "reply_to: direct" in dumped and "reply_mandatory: true" in dumped
