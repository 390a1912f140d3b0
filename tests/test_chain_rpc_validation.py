"""Validation of calls over zmq and amqp RPC, and of calls and events from services fed over zmq or amqp.

Every inbound transport x outbound style/transport that a service can carry is
valid; what it cannot is refused naming the node and what would be valid. The
GUI's drag-to-link asks `link_refusal`, the same rule.
"""

from __future__ import annotations

import itertools

import pytest

from engines.topology import topofile
from engines.topology.problems import Problem, Severity, TopologyError
from engines.topology.validation import link_refusal, validate

# how `order` is fed: (client line, links into order, extra nodes)
FEEDS = {
    "http": ("{name: shop, kind: client, style: request-response, transport: http}",
             ["{from: shop, to: order}"]),
    "zmq-req": ("{name: shop, kind: client, style: request-response, transport: zmq}",
                ["{from: shop, to: order}"]),
    "zmq-dealer": ("{name: shop, kind: client, style: async-request-response, transport: zmq}",
                   ["{from: shop, to: order}"]),
    "zmq-push": ("{name: shop, kind: client, style: notification, transport: zmq}",
                 ["{from: shop, to: order}"]),
    "zmq-pub": ("{name: shop, kind: client, style: publish-subscribe, transport: zmq}",
                ["{from: shop, to: order}"]),
    "amqp-rpc": ("{name: shop, kind: client, style: request-response, transport: amqp}",
                 ["{from: shop, to: rabbit, channel: orders}", "{from: rabbit, to: order, channel: orders}"]),
    "amqp-queue": ("{name: shop, kind: client, style: notification, transport: amqp}",
                   ["{from: shop, to: rabbit, channel: orders}", "{from: rabbit, to: order, channel: orders}"]),
    "amqp-fanout": ("{name: shop, kind: client, style: publish-subscribe, transport: amqp}",
                    ["{from: shop, to: rabbit, channel: orders}", "{from: rabbit, to: order, channel: orders}"]),
}
# what order sends downstream: the link(s) from order
SENDS = {
    "http-call": ["{from: order, to: payment}"],
    "http-async-call": ["{from: order, to: payment, style: async-request-response}"],
    "zmq-call": ["{from: order, to: payment, transport: zmq, style: request-response}"],
    "zmq-async-call": ["{from: order, to: payment, transport: zmq, style: async-request-response, in_flight: 8}"],
    "amqp-rpc": ["{from: order, to: rabbit, channel: payments, style: request-response}",
                 "{from: rabbit, to: payment, channel: payments}"],
    "amqp-async-rpc": ["{from: order, to: rabbit, channel: payments, style: async-request-response}",
                       "{from: rabbit, to: payment, channel: payments}"],
    "zmq-event": ["{from: order, to: payment, transport: zmq, style: notification}"],
    "amqp-outbox": ["{from: order, to: rabbit, channel: payments, delivery: outbox}",
                    "{from: rabbit, to: payment, channel: payments}"],
    "amqp-fanout": ["{from: order, to: rabbit, channel: payments, style: publish-subscribe}",
                    "{from: rabbit, to: payment, channel: payments}"],
}


def text(feed: str, send: str, order: str = "{name: order, kind: service}") -> str:
    client, into = FEEDS[feed]
    links = [*into, *SENDS[send]]
    return "\n".join(["version: 1", "name: combo", "nodes:", f"  - {client}", f"  - {order}",
                      "  - {name: payment, kind: service}", "  - {name: rabbit, kind: broker}",
                      "links:", *[f"  - {lk}" for lk in links], ""])


def problems(source: str) -> list[Problem]:
    try:
        return validate(topofile.loads(source).topology)
    except TopologyError as exc:
        return exc.problems


def errors(source: str) -> list[str]:
    return [p.message for p in problems(source) if p.severity is Severity.ERROR]


@pytest.mark.parametrize(("feed", "send"), list(itertools.product(FEEDS, SENDS)),
                         ids=lambda v: str(v))
def test_every_inbound_transport_with_every_outbound_style_is_valid(feed, send):
    source = text(feed, send)
    assert errors(source) == [], source
    topo = topofile.loads(source).topology
    target = "rabbit" if "to: rabbit" in SENDS[send][0] else "payment"
    assert link_refusal(topo, "order", target) is None  # the canvas's drag-to-link agrees


@pytest.mark.parametrize(("transport", "style"), [("zmq", "publish-subscribe"),
                                                  ("zmq", "publish-async-responses"),
                                                  ("http", "publish-subscribe")])
def test_a_style_a_service_cannot_send_is_refused_with_what_is_offered(transport, style):
    source = text("zmq-req", "zmq-call").replace(
        "transport: zmq, style: request-response}", f"transport: {transport}, style: {style}}}")
    msgs = errors(source)
    assert any(f"service 'order' cannot send {style} over {transport}" in m for m in msgs), msgs
    hints = [p.hint or "" for p in problems(source)]
    assert any("offers calls: request-response" in h for h in hints), hints


def test_publish_async_responses_over_amqp_from_a_service_is_refused():
    source = text("amqp-queue", "amqp-rpc").replace("style: request-response}", "style: publish-async-responses}")
    msgs = errors(source)
    assert any("service 'order' cannot send publish-async-responses over amqp" in m for m in msgs), msgs


def test_a_mailbox_reader_cannot_call_but_may_send_events():
    base = ["version: 1", "name: mail", "nodes:",
            "  - {name: shop, kind: client, style: notification, transport: smtp, count: 10}",
            "  - {name: mail, kind: service}", "  - {name: order, kind: service}",
            "  - {name: payment, kind: service}", "links:",
            "  - {from: shop, to: mail}", "  - {from: mail, to: order}"]
    call = "\n".join([*base, "  - {from: order, to: payment, transport: zmq}", ""])
    found = [p for p in problems(call) if p.severity is Severity.ERROR]
    assert any("service 'order' reads a mailbox over imap" in p.message for p in found), found
    assert any("notification" in (p.hint or "") for p in found)
    event = "\n".join([*base, "  - {from: order, to: payment, transport: zmq, style: notification}", ""])
    assert errors(event) == []


def test_amqp_fed_calls_warn_about_auto_ack_and_long_calls_on_the_io_loop():
    auto = text("amqp-queue", "zmq-call", "{name: order, kind: service, ack: auto}")
    warned = [p.message for p in problems(auto) if p.severity is Severity.WARNING]
    assert any("ack: auto" in m and "'order'" in m for m in warned), warned
    slow = text("amqp-queue", "zmq-call").replace("style: request-response}",
                                                 "style: request-response, timeout_ms: 6000, retries: 1}")
    warned = [p.message for p in problems(slow) if p.severity is Severity.WARNING]
    assert any("longer than two heartbeats" in m for m in warned), warned
    fixed = text("amqp-queue", "zmq-call", "{name: order, kind: service, handler_thread: true}").replace(
        "style: request-response}", "style: request-response, timeout_ms: 6000, retries: 1}")
    assert not [p for p in problems(fixed) if "heartbeats" in p.message]


def test_in_flight_is_a_call_setting():
    source = text("zmq-push", "zmq-event").replace("style: notification}", "style: notification, in_flight: 4}")
    warned = [p.message for p in problems(source) if p.severity is Severity.WARNING]
    assert any("'in_flight' applies to calls" in m for m in warned), warned


def test_a_zmq_call_link_round_trips_with_its_in_flight():
    source = text("amqp-queue", "zmq-async-call")
    topo = topofile.loads(source).topology
    again = topofile.loads(topofile.dumps(topo)).topology
    link = again.link("order->payment")
    assert (link.transport.value, link.style.value, link.in_flight) == ("zmq", "async-request-response", 8)
    dumped = topofile.dumps(topofile.loads(text("http", "http-async-call")).topology)
    assert "in_flight" not in dumped.split("from: order")[-1]  # http calls have a thread each: no such setting
