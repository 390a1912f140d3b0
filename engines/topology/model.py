"""The topology as plain data: nodes, links, a scenario and expectations.

Like Mininet's `Topo`, the model only describes; the runtime builds a running
system from it and the GUI wraps it in a document that emits signals. Every
field has the default a careful engineer would choose, so a short file is a
safe file. Pydantic checks types and ranges; `engines.topology.validation` checks the
meaning (who can talk to whom).

The node kinds live in `nodes`, the settings they choose from in `settings`,
the scenario in `scenario` and the building blocks in `basics`; this module
holds links and the topology and re-exports the rest, so `model` stays the
one name to import from.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from engines.topology.annotations import Annotation as Annotation
from engines.topology.annotations import AnnotationKind as AnnotationKind
from engines.topology.basics import _NAME_RE as _NAME_RE
from engines.topology.basics import FORMAT_VERSION as FORMAT_VERSION
from engines.topology.basics import NAME_PATTERN as NAME_PATTERN
from engines.topology.basics import Name as Name
from engines.topology.basics import Position as Position
from engines.topology.basics import _Strict as _Strict
from engines.topology.nodes import BrokerNode as BrokerNode
from engines.topology.nodes import ClientNode as ClientNode
from engines.topology.nodes import NodeBase as NodeBase
from engines.topology.nodes import ServiceNode as ServiceNode
from engines.topology.scenario import Action as Action
from engines.topology.scenario import Step as Step
from engines.topology.settings import AckMode as AckMode
from engines.topology.settings import BindSide as BindSide
from engines.topology.settings import Crash as Crash
from engines.topology.settings import CrashPoint as CrashPoint
from engines.topology.settings import EventDelivery as EventDelivery
from engines.topology.settings import ExchangeType as ExchangeType
from engines.topology.settings import Overflow as Overflow
from engines.topology.settings import PirateMode as PirateMode
from engines.topology.settings import ProcessingDistribution as ProcessingDistribution
from engines.topology.settings import QueueType as QueueType
from engines.topology.settings import RejectMode as RejectMode
from engines.topology.settings import ReplyTo as ReplyTo
from engines.topology.settings import TransactionMode as TransactionMode
from engines.topology.vocabulary import NodeKind, Style, Transport

Node = Annotated[ClientNode | ServiceNode | BrokerNode, Field(discriminator="kind")]


class Link(_Strict):
    """A directed edge: who sends to whom. Its transport follows from its ends."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=True)

    source: Name = Field(alias="from")
    target: Name = Field(alias="to")
    name: str | None = Field(default=None, description="Defaults to 'from->to'.")
    channel: Name | None = Field(
        default=None,
        description="amqp: queue (point to point) or exchange (publish) name; derived when unset.",
    )
    exchange_type: ExchangeType = ExchangeType.FANOUT
    routing_key: str = "#"
    durable: bool = Field(default=True, description="amqp: durable queue and exchange.")
    queue_type: QueueType = QueueType.CLASSIC
    exclusive: bool = Field(
        default=False,
        description="amqp: an exclusive queue, declared by its consumer alone and deleted with its "
                    "connection (a subscriber that is away has no queue: it misses what is sent).")
    auto_delete: bool = Field(
        default=False, description="amqp: the queue is deleted when its last consumer goes.")
    delivery_limit: int | None = Field(
        default=None, ge=0,
        description="amqp quorum queue: x-delivery-limit, deliveries of one message before it is "
                    "dropped or dead-lettered; unset = no limit (RabbitMQ 3.10 has no default).",
    )
    message_ttl_ms: int | None = Field(
        default=None, ge=0,
        description="amqp: x-message-ttl, how long a message may wait in this queue; expired "
                    "messages are dropped or dead-lettered; unset = forever.",
    )
    expires_ms: int | None = Field(
        default=None, ge=1,
        description="amqp: x-expires, the queue is deleted (with its messages) after this long "
                    "unused (no consumer, no redeclare); unset = never.",
    )
    max_length: int | None = Field(
        default=None, ge=0, description="amqp: x-max-length, messages the queue holds; unset = no limit.")
    max_length_bytes: int | None = Field(
        default=None, ge=0,
        description="amqp: x-max-length-bytes, message body bytes the queue holds; unset = no limit.")
    overflow: Overflow = Field(
        default=Overflow.DROP_HEAD,
        description="amqp: x-overflow, what a full queue does (sent only when not drop-head, "
                    "RabbitMQ's default).")
    dead_letter_exchange: str | None = Field(
        default=None,
        description="amqp: x-dead-letter-exchange of this queue: where rejected, expired or "
                    "dropped messages go; '' = the default exchange; unset = they are discarded.",
    )
    dead_letter_routing_key: str | None = Field(
        default=None,
        description="amqp: x-dead-letter-routing-key; unset = the message's own routing key. With "
                    "the default exchange it names the dead-letter queue.",
    )
    hwm: int | None = Field(default=None, ge=0, description="zmq: send high-water mark.")
    # -- a service's outgoing link (engines.topology.chains): how it sends downstream ----------
    style: Style | None = Field(
        default=None,
        description="From a service: request styles are calls inside the handling, the others "
        "events after the work. Unset = request-response to a service, notification to a broker.")
    transport: Transport | None = Field(
        default=None, description="From a service to a service: http (default) or zmq; amqp through a broker.")
    delivery: EventDelivery = Field(
        default=EventDelivery.DUAL_WRITE,
        description="Events: send after the commit (dual write) or through a transactional outbox.")
    timeout_ms: int = Field(default=1000, ge=0, description="Calls: per-call timeout (0 = wait forever).")
    retries: int = Field(default=0, ge=0, description="Calls: resends of the same downstream ID.")
    in_flight: int = Field(
        default=100, ge=1, description="Calls, async-request-response over zmq or amqp: requests out at once.")
    max_concurrent: int = Field(
        default=0, ge=0, description="Calls: bulkhead, calls at once; excess refused (0 = no limit).")
    breaker_failures: int = Field(
        default=0, ge=0, description="Calls: consecutive failures that open the breaker (0 = none).")
    breaker_open_ms: int = Field(
        default=5000, ge=1, description="Calls: the breaker half-opens after this long.")

    @property
    def key(self) -> str:
        return self.name or f"{self.source}->{self.target}"



class Topology(_Strict):
    version: int = FORMAT_VERSION
    name: Name
    description: str = ""
    duration_s: float | None = Field(default=None, gt=0, description="Stop the run after this long.")
    nodes: list[Node] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    scenario: list[Step] = Field(default_factory=list)
    expectations: list[str] = Field(default_factory=list)
    annotations: list[Annotation] = Field(
        default_factory=list, description="Notes, boxes and groups drawn on the canvas; the run ignores them.")

    # -- lookups -------------------------------------------------------------
    def node(self, name: str) -> ClientNode | ServiceNode | BrokerNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def has_node(self, name: str) -> bool:
        return any(n.name == name for n in self.nodes)

    def link(self, key: str) -> Link:
        for link in self.links:
            if link.key == key:
                return link
        raise KeyError(key)

    def has_link(self, key: str) -> bool:
        return any(link.key == key for link in self.links)

    def clients(self) -> list[ClientNode]:
        return [n for n in self.nodes if isinstance(n, ClientNode)]

    def services(self) -> list[ServiceNode]:
        return [n for n in self.nodes if isinstance(n, ServiceNode)]

    def brokers(self) -> list[BrokerNode]:
        return [n for n in self.nodes if isinstance(n, BrokerNode)]

    def links_from(self, name: str) -> list[Link]:
        return [link for link in self.links if link.source == name]

    def links_to(self, name: str) -> list[Link]:
        return [link for link in self.links if link.target == name]

    def link_transport(self, link: Link) -> Transport | None:
        """The transport a link carries: its client's, or amqp for a broker's links."""
        if not (self.has_node(link.source) and self.has_node(link.target)):
            return None
        source = self.node(link.source)
        if isinstance(source, ClientNode):
            return source.transport
        if isinstance(source, BrokerNode):
            return Transport.AMQP
        if isinstance(source, ServiceNode) and self.receives_mail(source.name):
            return Transport.IMAP  # a reader of this mail service's mailbox
        if isinstance(source, ServiceNode) and source.pirate is not None:
            return Transport.ZMQ  # a Pirate queue's worker connects to its backend
        if isinstance(self.node(link.target), BrokerNode):  # a service's outgoing link
            return Transport.AMQP
        return link.transport or Transport.HTTP

    def sender_style(self, link: Link) -> Style | None:
        """The style a link's sender uses: its client's, or a service link's own (with its default);
        None for a mail service's link to a reader (the reader fetches over IMAP)."""
        if not (self.has_node(link.source) and self.has_node(link.target)):
            return None
        source = self.node(link.source)
        if isinstance(source, ClientNode):
            return source.style
        if isinstance(source, ServiceNode) and not self.receives_mail(source.name) \
                and source.pirate is None:  # a Pirate queue's workers ask it for work
            if link.style is not None:
                return link.style
            to_broker = isinstance(self.node(link.target), BrokerNode)
            return Style.NOTIFICATION if to_broker else Style.REQUEST_RESPONSE
        return None

    def receives_mail(self, name: str) -> bool:
        """Whether a client sends mail (smtp) to this service: it is then a mail service."""
        return any(isinstance(c, ClientNode) and c.transport is Transport.SMTP
                   for c in (self.node(lk.source) for lk in self.links_to(name)
                             if self.has_node(lk.source)))

    def mail_readers(self, name: str) -> list[Link]:
        """The links from a mail service to the services that read its mailbox over IMAP."""
        if not self.has_node(name) or not self.receives_mail(name):
            return []
        return [lk for lk in self.links_from(name)
                if self.has_node(lk.target) and isinstance(self.node(lk.target), ServiceNode)]

    def unique_name(self, stem: str) -> str:
        """A node name not yet taken, built from `stem` ('service', 'service-2', ...)."""
        stem = stem if _NAME_RE.match(stem) else "node"
        taken = {n.name for n in self.nodes}
        if stem not in taken:
            return stem
        i = 2
        while f"{stem}-{i}" in taken:
            i += 1
        return f"{stem}-{i}"


NODE_CLASSES: dict[NodeKind, type[NodeBase]] = {
    NodeKind.CLIENT: ClientNode,
    NodeKind.SERVICE: ServiceNode,
    NodeKind.BROKER: BrokerNode,
}
