"""Validation of service chains (issue 12): outgoing links, cycles, call styles, drag-to-link rules."""

from __future__ import annotations

from engines.topology import topofile
from engines.topology.model import Topology
from engines.topology.problems import Problem, Severity, TopologyError
from engines.topology.validation import link_refusal, validate

CHAIN = """
version: 1
name: chain
nodes:
  - {name: shop, kind: client, style: request-response, transport: http}
  - {name: order, kind: service}
  - {name: payment, kind: service}
  - {name: fraud, kind: service}
links:
  - {from: shop, to: order}
  - {from: order, to: payment, timeout_ms: 300, max_concurrent: 4, breaker_failures: 5}
  - {from: payment, to: fraud}
"""


def load(text: str) -> Topology:
    return topofile.loads(text).topology


def problems(text: str) -> list[Problem]:
    """Every problem of a topology text, as the loader reports them (it refuses on errors)."""
    try:
        return validate(load(text))
    except TopologyError as exc:
        return exc.problems


def errors(text: str) -> list[str]:
    return [p.message for p in problems(text) if p.severity is Severity.ERROR]


def test_a_chain_of_calls_is_valid_and_round_trips():
    topo = load(CHAIN)
    assert errors(CHAIN) == []
    again = load(topofile.dumps(topo))
    link = again.link("order->payment")
    assert (link.timeout_ms, link.max_concurrent, link.breaker_failures) == (300, 4, 5)
    assert again.link("payment->fraud").max_concurrent == 0  # defaults stay defaults
    text = topofile.dumps(topo)
    assert "timeout_ms: 1000" in text.split("from: payment")[-1]  # a call's settings in force are written
    assert "delivery" not in text  # no event link here


def test_a_cycle_is_refused_and_named():
    found = [m for m in errors(CHAIN + "  - {from: fraud, to: order}\n") if "cycle" in m]
    assert found
    assert "order" in found[0] and "payment" in found[0] and "fraud" in found[0]


def test_drag_to_link_refuses_the_link_that_closes_a_cycle():
    topo = load(CHAIN)
    why = link_refusal(topo, "fraud", "order")
    assert why is not None and "cycle" in why and "fraud" in why and "order" in why
    assert link_refusal(topo, "payment", "shop") is not None  # a service never sends to a client
    assert link_refusal(topo, "order", "fraud") is None  # a shortcut is not a cycle


def test_a_call_must_use_a_request_style_its_transport_offers():
    msgs = errors(CHAIN.replace("{from: payment, to: fraud}",
                                "{from: payment, to: fraud, style: publish-subscribe}"))
    assert any("cannot send publish-subscribe over http" in m and "payment" in m for m in msgs), msgs


def test_a_call_with_no_timeout_is_warned():
    text = CHAIN.replace("{from: payment, to: fraud}", "{from: payment, to: fraud, timeout_ms: 0}")
    warnings = [p for p in problems(text) if p.severity is Severity.WARNING]
    assert any("no timeout" in p.message and p.link == "payment->fraud" for p in warnings)
    assert errors(text) == []


def test_calls_from_a_service_fed_over_zmq_are_valid():
    """A batch driver makes its calls too (engines.nodes.handler._with_calls): see test_chain_rpc_validation."""
    text = CHAIN.replace("style: request-response, transport: http", "style: notification, transport: zmq")
    assert errors(text) == []


def test_service_link_settings_on_a_client_link_are_refused():
    text = CHAIN.replace("{from: shop, to: order}", "{from: shop, to: order, timeout_ms: 5}")
    assert any("setting of a service's outgoing link" in m for m in errors(text))


def test_chain_counters_have_their_scopes():
    text = CHAIN + "expectations:\n  - shop.e2e_lost == 0\n  - order->payment.hop_lost == 0\n" \
        "  - order->payment.short_circuited >= 0\n  - order.calls_in_flight_peak >= 0\n"
    assert errors(text) == []
    wrong = CHAIN + "expectations:\n  - fraud.calls_in_flight_peak == 0\n"  # fraud calls nobody
    assert any("has no counter 'calls_in_flight_peak'" in m for m in errors(wrong))
