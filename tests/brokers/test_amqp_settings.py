"""Queue settings against the real broker: what the lab declares, and what validation refuses.

Validation answers in the broker's own words before a run; these tests make
the lab's declarations on Debian's RabbitMQ 3.10 and compare its answers with
what validation says (one shared node for all of them).
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Iterator
from typing import Any

import pika
import pika.exceptions
import pytest
import yaml

from engines.brokers import ManagedBroker
from engines.brokers.plan import link_specs
from engines.topology import validation
from engines.topology.model import Topology
from engines.topology.problems import Severity
from engines.transports.amqp_declare import declare_operations

pytestmark = pytest.mark.rabbitmq


class Rabbit:
    """A blocking pika connection that survives the channel closes these tests provoke."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn = pika.BlockingConnection(pika.URLParameters(url))

    def channel(self) -> Any:
        if self.conn.is_closed:
            self.conn = pika.BlockingConnection(pika.URLParameters(self.url))
        return self.conn.channel()

    def declare(self, spec: dict[str, Any], owner: str | None = None) -> str | None:
        """Run the lab's declarations of a channel spec (as node `owner`); the broker's refusal
        text, or None."""
        channel = self.channel()
        try:
            for method, kwargs in declare_operations(spec, owner):
                getattr(channel, method)(**kwargs)
        except pika.exceptions.ChannelClosedByBroker as exc:
            return str(exc.reply_text)
        channel.close()
        return None


@pytest.fixture(scope="module")
def rabbit(shared_broker: ManagedBroker) -> Iterator[Rabbit]:
    client = Rabbit(shared_broker.url)
    yield client
    if client.conn.is_open:
        client.conn.close()


def _topology(links: str) -> Topology:
    """A notification client feeding queue(s) of its own through the broker, unvalidated."""
    text = textwrap.dedent("""
        version: 1
        name: settings
        nodes:
          - {name: feed, kind: client, style: notification, transport: amqp}
          - {name: rabbit, kind: broker}
          - {name: a, kind: service}
          - {name: b, kind: service}
        links:
          - {from: feed, to: rabbit, channel: CHANNEL}
        """).replace("CHANNEL", f"q-{uuid.uuid4().hex[:8]}")
    text += textwrap.indent(textwrap.dedent(links), "  ")
    return Topology.model_validate(yaml.safe_load(text))


def _own_declaration(topology: Topology, key: str) -> dict[str, Any]:
    """The spec a broker->service link would declare with its own queue settings."""
    spec = link_specs(topology)[key]
    link = topology.link(key)
    queue = dict(spec["queues"][0], durable=link.durable, queue_type=link.queue_type.value,
                 exclusive=link.exclusive, auto_delete=link.auto_delete, service=link.target,
                 message_ttl_ms=link.message_ttl_ms,
                 delivery_limit=link.delivery_limit, dead_letter_exchange=link.dead_letter_exchange,
                 dead_letter_routing_key=link.dead_letter_routing_key)
    return {**spec, "queues": [queue]}


@pytest.mark.parametrize("links", [
    "- {from: rabbit, to: a, queue_type: quorum, durable: false}",
    "- {from: rabbit, to: a, delivery_limit: 3}",
    "- {from: rabbit, to: a, queue_type: quorum}\n- {from: rabbit, to: b}",
    "- {from: rabbit, to: a, queue_type: quorum, delivery_limit: 3}\n"
    "- {from: rabbit, to: b, queue_type: quorum, delivery_limit: 5}",
    "- {from: rabbit, to: a}\n- {from: rabbit, to: b, durable: false}",
    "- {from: rabbit, to: a}\n- {from: rabbit, to: b, queue_type: quorum}",
    "- {from: rabbit, to: a, dead_letter_routing_key: dead}",
    "- {from: rabbit, to: a, dead_letter_exchange: dlx}\n- {from: rabbit, to: b}",
    "- {from: rabbit, to: a, queue_type: quorum, exclusive: true}",
    "- {from: rabbit, to: a, queue_type: quorum, auto_delete: true}",
    "- {from: rabbit, to: a, exclusive: true}\n- {from: rabbit, to: b, exclusive: true}",
    "- {from: rabbit, to: a, auto_delete: true}\n- {from: rabbit, to: b}",
    "- {from: rabbit, to: a, queue_type: stream, durable: false}",
    "- {from: rabbit, to: a, queue_type: stream, message_ttl_ms: 100}",
], ids=["non-durable-quorum", "classic-delivery-limit", "quorum-then-classic",
        "two-delivery-limits", "durable-then-not", "classic-then-quorum",
        "dead-letter-key-without-exchange", "dead-letter-exchange-then-none", "exclusive-quorum",
        "auto-delete-quorum", "exclusive-two-consumers", "auto-delete-then-not",
        "non-durable-stream", "stream-message-ttl"])
def test_validation_gives_the_broker_s_own_refusal(rabbit: Rabbit, links: str) -> None:
    topology = _topology(links)
    errors = [p for p in validation.validate(topology) if p.severity is Severity.ERROR and p.link]
    assert len(errors) == 1, errors
    problem = errors[0]
    answers, connections = [], []
    for lk in topology.links:  # each consumer on a connection of its own, as in a run
        if lk.source == "rabbit":
            connections.append(Rabbit(rabbit.url))
            answers.append(connections[-1].declare(_own_declaration(topology, lk.key), lk.target))
    for connection in connections:
        if connection.conn.is_open:
            connection.conn.close()
    assert answers[-1] == problem.message, answers  # the declaration of the link it names
    assert problem.link == topology.links[-1].key
    assert problem.hint


def _deliveries_until_gone(rabbit: Rabbit, queue: str, most: int) -> int:
    """Publish one message, nack it with requeue until the queue no longer gives it back."""
    channel = rabbit.channel()
    channel.basic_publish("", queue, b"poison")
    seen = 0
    while seen < most:
        method, _props, _body = channel.basic_get(queue)
        if method is None:
            # quorum queues hand a requeued message back at once; give it a moment under load
            channel.connection.sleep(0.2)
            method, _props, _body = channel.basic_get(queue)
            if method is None:
                break
        seen += 1
        channel.basic_nack(method.delivery_tag, requeue=True)
    channel.queue_purge(queue)
    channel.close()
    return seen


def test_quorum_queues_get_no_delivery_limit_unless_the_file_sets_one(rabbit: Rabbit) -> None:
    unlimited = _topology("- {from: rabbit, to: a, queue_type: quorum}")
    limited = _topology("- {from: rabbit, to: a, queue_type: quorum, delivery_limit: 2}")
    names = []
    for topology in (unlimited, limited):
        assert not [p for p in validation.validate(topology) if p.link]
        spec = link_specs(topology)["rabbit->a"]
        assert rabbit.declare(spec) is None
        names.append(spec["consume"])
    # 3.10 has no default: a message requeued 30 times (past the old hidden limit of 20) is still there
    assert _deliveries_until_gone(rabbit, names[0], most=30) == 30
    # with x-delivery-limit 2 the broker drops it after its third delivery
    assert _deliveries_until_gone(rabbit, names[1], most=30) == 3
