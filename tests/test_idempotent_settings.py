"""Validation and file form of the idempotent consumer's settings (store, transaction)."""

from __future__ import annotations

import textwrap

import pytest

from engines.topology import relevance, topofile
from engines.topology.problems import Severity


def _errors(text: str) -> list[str]:
    with pytest.raises(topofile.TopologyError) as info:
        topofile.loads(textwrap.dedent(text), file="t.topo.yaml")
    assert all(p.file == "t.topo.yaml" and p.line for p in info.value.errors)
    return [f"{p.node}: {p.message}" for p in info.value.problems if p.severity is Severity.ERROR]


def test_shared_store_refused_for_publish_subscribers():
    errors = _errors("""
        version: 1
        name: t
        nodes:
          - {name: feed, kind: client, style: publish-subscribe, transport: zmq}
          - {name: a, kind: service, store: shared, reply: false}
          - {name: b, kind: service, store: shared, reply: false}
        links:
          - {from: feed, to: a}
          - {from: feed, to: b}
        """)
    assert len(errors) == 2 and all("refuse the second copy" in e for e in errors), errors
    assert errors[0].startswith("a: shares store 'shared' with b")


def test_split_transaction_needs_idempotent_and_between_writes_needs_a_split():
    errors = _errors("""
        version: 1
        name: t
        nodes:
          - {name: c, kind: client, style: notification, transport: zmq}
          - {name: naive, kind: service, idempotent: false, transaction: effect-first}
          - {name: one, kind: service, crash: {after: 3, point: between-writes}}
        links:
          - {from: c, to: naive}
          - {from: c, to: one}
        """)
    assert any(e.startswith("naive: transaction 'effect-first'") for e in errors), errors
    assert any(e.startswith("one: crash point 'between-writes' needs two writes") for e in errors), errors


def test_unknown_transaction_mode_is_a_located_error():
    with pytest.raises(topofile.TopologyError) as info:
        topofile.loads(textwrap.dedent("""
            version: 1
            name: t
            nodes:
              - {name: s, kind: service, transaction: sometimes}
            """), file="t.topo.yaml")
    problem = info.value.problems[0]
    assert problem.line == 5 and "transaction" in problem.message, problem


def test_store_and_transaction_are_shown_first_and_written_when_set():
    loaded = topofile.loads(textwrap.dedent("""
        version: 1
        name: t
        nodes:
          - {name: c, kind: client, style: notification, transport: zmq}
          - {name: s, kind: service, store: orders, transaction: marker-first}
          - {name: plain, kind: service}
        links:
          - {from: c, to: s}
          - {from: c, to: plain}
        """))
    topo = loaded.topology
    assert {"store", "transaction"} <= set(relevance.node_fields(topo, topo.node("s")))
    assert not {"store", "transaction"} & set(relevance.node_fields(topo, topo.node("plain")))
    text = topofile.dumps(topo)
    assert "store: orders" in text and "transaction: marker-first" in text
    assert topofile.loads(text).topology == topo


def test_zmq_binds_refused_outside_push_pull_and_pub_sub():
    errors = _errors("""
        version: 1
        name: t
        nodes:
          - {name: c, kind: client, style: request-response, transport: zmq, zmq_binds: service}
          - {name: s, kind: service}
        links:
          - {from: c, to: s}
        """)
    assert errors == ["c: zmq_binds 'service' applies to zmq notification (PUSH/PULL) and "
                      "publish-subscribe (PUB/SUB); this client is zmq request-response"], errors


def test_after_reply_crash_needs_an_amqp_rpc_server():
    errors = _errors("""
        version: 1
        name: t
        nodes:
          - {name: c, kind: client, style: request-response, transport: zmq}
          - {name: s, kind: service, crash: {after: 5, point: after-reply}}
        links:
          - {from: c, to: s}
        """)
    assert len(errors) == 1 and errors[0].startswith("s: crash point 'after-reply' dies between"), errors
