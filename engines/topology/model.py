"""The topology as plain data: nodes, links, a scenario and expectations.

Like Mininet's `Topo`, the model only describes; the runtime builds a running
system from it and the GUI wraps it in a document that emits signals. Every
field has the default a careful engineer would choose, so a short file is a
safe file. Pydantic checks types and ranges; `engines.topology.validation` checks the
meaning (who can talk to whom).
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engines.topology.vocabulary import NodeKind, Style, Transport

FORMAT_VERSION = 1
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,62}$"
_NAME_RE = re.compile(NAME_PATTERN)

Name = Annotated[
    str,
    Field(
        pattern=NAME_PATTERN,
        description="Letters, digits, '-' and '_', starting with a letter.",
    ),
]
Position = tuple[float, float]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False, validate_assignment=True,
                              allow_inf_nan=False)  # `.inf` and `.nan` are YAML floats: refused


class ProcessingDistribution(str, Enum):
    FIXED = "fixed"
    UNIFORM = "uniform"
    EXPONENTIAL = "exponential"


class CrashPoint(str, Enum):
    """Where a crashing service dies while handling its Nth message."""

    BEFORE_COMMIT = "before-commit"
    AFTER_COMMIT = "after-commit"  # committed, not yet acknowledged or replied
    BETWEEN_WRITES = "between-writes"  # split transactions only: first write committed, second not
    AFTER_REPLY = "after-reply"  # amqp RPC server: reply published, request not yet acked


class TransactionMode(str, Enum):
    """How an idempotent service writes PROCESSED_MESSAGES and the business row.

    `one` is the idempotent consumer's rule: both in one transaction. The two
    wrong orders commit them separately, so a crash between them loses the
    effect (marker first: the redelivery is refused as a duplicate) or applies
    it twice (effect first: the redelivery finds no marker).
    """

    ONE = "one"
    MARKER_FIRST = "marker-first"
    EFFECT_FIRST = "effect-first"


class BindSide(str, Enum):
    """zmq PUSH/PULL and PUB/SUB: which end binds (the other connects); the zguide uses both."""

    USUAL = "usual"  # PUSH connects to PULL workers that bind; PUB binds, SUBs connect
    CLIENT = "client"  # the client's PUSH or PUB binds; the services connect to it
    SERVICE = "service"  # the services' PULL or SUB bind; the client connects to each


class AckMode(str, Enum):
    AUTO = "auto"
    MANUAL = "manual"  # ack after the database commit
    NEVER = "never"  # manual acks that never come: the consumer holds its prefetch for ever


class QueueType(str, Enum):
    CLASSIC = "classic"
    QUORUM = "quorum"
    STREAM = "stream"  # an append-only log: consumers read from an offset, nothing is removed


class RejectMode(str, Enum):
    """Which deliveries an amqp service rejects (basic.reject) instead of processing."""

    NEVER = "never"
    FRACTION = "fraction"  # each delivery with probability reject_fraction
    NTH = "nth"  # every reject_nth-th delivery of the service's life
    FAILED = "failed"  # the messages whose processing fails (fail_every)


class Overflow(str, Enum):
    """What a full queue (x-max-length / x-max-length-bytes) does with one more message."""

    DROP_HEAD = "drop-head"  # RabbitMQ's default: the oldest goes (dead-lettered: maxlen)
    REJECT_PUBLISH = "reject-publish"  # the new one is refused: the publisher gets a nack
    REJECT_PUBLISH_DLX = "reject-publish-dlx"  # refused, nacked, and dead-lettered


class ReplyTo(str, Enum):
    """Where an amqp request's reply goes."""

    QUEUE = "queue"  # a private, exclusive, auto-delete reply queue of the client's connection
    DIRECT = "direct"  # RabbitMQ's direct reply-to (amq.rabbitmq.reply-to): no queue, at most once


class ExchangeType(str, Enum):
    FANOUT = "fanout"
    TOPIC = "topic"


class EventDelivery(str, Enum):
    """How a service's event (an outgoing notification or publication) leaves it."""

    DUAL_WRITE = "dual-write"  # sent right after the commit: a crash in between loses it
    OUTBOX = "outbox"  # a row in the same transaction, published by a relay thread


class Crash(_Strict):
    """A service that dies once, on its Nth message, at a given point."""

    after: int = Field(ge=1, description="Crash while handling this message (1 = the first).")
    point: CrashPoint = CrashPoint.AFTER_COMMIT


class NodeBase(_Strict):
    name: Name
    description: str = ""
    position: Position = (0.0, 0.0)
    port: int | None = Field(
        default=None, ge=1, le=65535, description="Fixed listening port; free port when unset."
    )
    bind: str = Field(default="127.0.0.1", description="Address listeners bind to.")


class ClientNode(NodeBase):
    """Originates messages at a rate, in one interaction style, over one transport."""

    kind: Literal[NodeKind.CLIENT] = NodeKind.CLIENT
    style: Style = Style.REQUEST_RESPONSE
    transport: Transport = Transport.ZMQ
    rate: float = Field(default=100.0, ge=0, description="Messages per second; 0 = as fast as possible.")
    count: int | None = Field(default=1000, ge=1, description="Messages to send; unset = until duration.")
    duration_s: float | None = Field(default=None, gt=0, description="Stop sending after this many seconds.")
    payload_bytes: int = Field(default=256, ge=0, le=16 * 1024 * 1024)
    timeout_ms: int = Field(default=1000, ge=1, description="Wait this long for a reply or an ack.")
    retries: int = Field(default=3, ge=0, description="Resends of the same message ID after a timeout.")
    lazy_pirate: bool = Field(
        default=True,
        description="zmq request-response: poll with a timeout and reopen (true) or a plain REQ that blocks (false).",
    )
    req_resend: bool = Field(
        default=False,
        description="zmq plain REQ (lazy_pirate false): after timeout_ms, send the request again on "
                    "the same socket. Without req_relaxed libzmq refuses it (EFSM: a counted error; "
                    "the REQ stays stuck until the reply comes).",
    )
    req_relaxed: bool = Field(default=False, description="zmq REQ: ZMQ_REQ_RELAXED (libzmq default 0): "
                              "a new request may be sent before the reply to the last one.")
    req_correlate: bool = Field(default=False, description="zmq REQ: ZMQ_REQ_CORRELATE (libzmq default 0): "
                                "replies to an earlier request than the last one are dropped.")
    zmq_binds: BindSide = Field(
        default=BindSide.USUAL,
        description="zmq notification and publish-subscribe: which end binds. usual = PUSH connects "
                    "to PULL workers that bind, PUB binds and SUBs connect; client = the client's "
                    "socket binds; service = the services' sockets bind.",
    )
    linger_ms: int = Field(
        default=3000, ge=-1,
        description="zmq PUSH/PUB: ZMQ_LINGER when the client closes after its last message: how long "
                    "what is still queued may take to leave. 0 = dropped at once; -1 = libzmq's "
                    "default, wait forever (a peer that never takes them keeps the client from "
                    "exiting); the lab's default 3000 lets a run end.",
    )
    heartbeat_ivl_ms: int = Field(
        default=0, ge=0,
        description="zmq: ZMQ_HEARTBEAT_IVL, ZMTP PINGs on the client's connections every this many ms "
                    "(libzmq default 0 = none).",
    )
    heartbeat_timeout_ms: int = Field(
        default=-1, ge=-1,
        description="zmq: ZMQ_HEARTBEAT_TIMEOUT, close a connection whose peer sent nothing for this "
                    "long after a PING (libzmq default -1 = the interval).",
    )
    heartbeat_ttl_ms: int = Field(
        default=0, ge=0, le=6_553_500,
        description="zmq: ZMQ_HEARTBEAT_TTL, asks the peer to close the connection if it hears "
                    "nothing for this long (libzmq default 0 = not asked; 100 ms steps).",
    )
    wait_for_subscribers: bool = Field(
        default=True,
        description="zmq publish styles: wait (bounded) until the on-time subscribers' subscriptions "
                    "reached the XPUB before publishing (the zguide's synchronisation); false = a "
                    "plain PUB that publishes at once, and the slow joiner misses the first messages.",
    )
    immediate: bool = Field(
        default=False,
        description="zmq PUSH/DEALER: ZMQ_IMMEDIATE (libzmq default 0). 0 = messages round-robin "
                    "into every peer's pipe, also a peer that is away (queued there up to the HWM); "
                    "1 = only to connected peers (a burst all goes to the first that connected).",
    )
    messages_per_frame: int = Field(
        default=1, ge=1, le=1024,
        description="zmq notification: messages packed into one ZeroMQ frame. 1 = one message per "
                    "frame, so high-water marks and a killed worker's losses count messages; more "
                    "is faster, and the high-water marks then count frames of that many messages.",
    )
    in_flight: int = Field(default=100, ge=1, description="Async styles: requests outstanding at once.")
    collect_ms: int = Field(default=500, ge=1, description="publish-async-responses: wait this long for replies.")
    idempotency_key: bool = Field(default=True, description="http: send an Idempotency-Key header.")
    confirms: bool = Field(default=True, description="amqp: publisher confirms.")
    persistent: bool = Field(default=True, description="amqp: delivery_mode 2.")
    mandatory: bool = Field(default=True, description="amqp: unroutable messages come back.")
    resend_in_doubt: bool = Field(default=True, description="amqp: resend unconfirmed messages after a reconnect.")
    declare: bool = Field(
        default=True,
        description="amqp: declare the exchange and queues before publishing; false = rely on the "
                    "consumers to have declared them (a publish to an exchange that does not exist "
                    "closes the channel: 404 NOT_FOUND, counted, reconnected).")
    reply_to: ReplyTo = Field(
        default=ReplyTo.QUEUE,
        description="amqp request styles: replies to a private reply queue, or direct reply-to "
                    "(amq.rabbitmq.reply-to, no queue: a reply whose requester is gone is dropped).")
    heartbeat_s: int = Field(
        default=5, ge=0, le=65535,
        description="amqp: connection heartbeat the node asks for, in seconds (0 = off). The lab's "
                    "default is 5 (RabbitMQ proposes 60); the broker drops a peer silent for two.")
    expiration_ms: int | None = Field(
        default=None, ge=0,
        description="amqp: per-message TTL (the expiration property); the queue drops or "
                    "dead-letters the message when it expires; unset = none.",
    )

    @model_validator(mode="after")
    def _has_an_end(self) -> ClientNode:
        if self.count is None and self.duration_s is None:
            raise ValueError("a client needs a 'count' or a 'duration_s', or it never stops")
        return self


class ServiceNode(NodeBase):
    """Consumes messages, does work, may reply, keeps its business data in SQLite."""

    kind: Literal[NodeKind.SERVICE] = NodeKind.SERVICE
    processing_ms: float = Field(default=0.0, ge=0, description="Mean work per message.")
    processing: ProcessingDistribution = ProcessingDistribution.FIXED
    heavy_every: int | None = Field(
        default=None, ge=1,
        description="Every Nth message (sequence number + 1 a multiple of N) is heavy: it costs "
                    "heavy_ms more (e.g. 2: every other message), which shows prefetch's effect "
                    "on fair dispatch.")
    heavy_ms: float = Field(default=0.0, ge=0, description="Extra work of a heavy message.")
    reply: bool = Field(default=True, description="Reply to styles that expect one.")
    idempotent: bool = Field(default=True, description="Record message IDs in PROCESSED_MESSAGES.")
    store: Name | None = Field(
        default=None,
        description="Logical service whose SQLite database this node shares (instances of one "
                    "service share PROCESSED_MESSAGES); unset = a database of its own.",
    )
    transaction: TransactionMode = Field(
        default=TransactionMode.ONE,
        description="PROCESSED_MESSAGES and the business row: in one transaction, or marker/effect first.",
    )
    crash: Crash | None = None
    restart_on_crash: bool = Field(default=False, description="The supervisor restarts it after a crash.")
    ack: AckMode = AckMode.MANUAL
    prefetch: int = Field(default=100, ge=0, description="amqp: unacked deliveries at once (0 = unlimited).")
    hwm: int = Field(default=1000, ge=0, description="zmq: receive high-water mark (0 = unlimited).")
    subscribe: bool = Field(
        default=True,
        description="zmq SUB: subscribe to every message (prefix ''); false = no subscription, which "
                    "is a SUB socket's own default: it receives nothing.",
    )
    router_mandatory: bool = Field(
        default=False,
        description="zmq ROUTER: ZMQ_ROUTER_MANDATORY (libzmq default 0). 0 = a reply to a peer "
                    "that is gone is dropped silently; 1 = it is an error, counted as replies_unroutable.",
    )
    reject: RejectMode = Field(default=RejectMode.NEVER,
                               description="amqp: reject deliveries instead of processing them.")
    reject_fraction: float = Field(default=0.1, ge=0, le=1, description="reject: fraction: the share rejected.")
    reject_nth: int = Field(default=10, ge=1, description="reject: nth: every Nth delivery is rejected.")
    fail_every: int | None = Field(
        default=None, ge=1,
        description="Processing fails, every time, for the messages whose sequence number + 1 is a "
                    "multiple of this (poison messages); reject: failed rejects them.")
    heartbeat_s: int = Field(
        default=5, ge=0, le=65535,
        description="amqp: connection heartbeat the node asks for, in seconds (0 = off). The lab's "
                    "default is 5 (RabbitMQ proposes 60); the broker drops a peer silent for two.")
    handler_thread: bool = Field(
        default=False,
        description="amqp: do the work in a thread of its own so the connection's I/O loop keeps "
                    "sending heartbeats (false: work on the loop, like a pika BlockingConnection "
                    "callback; work longer than two heartbeats gets the connection dropped).")
    reply_mandatory: bool = Field(
        default=False,
        description="amqp: publish replies with mandatory, so the broker returns those it cannot "
                    "route (the requester's reply queue or channel is gone): replies_returned.")
    requeue: bool = Field(default=False, description="amqp: rejected deliveries go back to the queue "
                          "(nack with requeue) rather than being dead-lettered or dropped.")
    stream_offset: str = Field(
        default="next", pattern=r"^(first|last|next|\d+)$",
        description="amqp stream queues: where this consumer starts (first, last, next or an offset) "
                    "unless it stored an offset earlier in the run; it stores the offset of what "
                    "it acked and, restarted, goes on after it.")
    join_after_ms: int = Field(
        default=0, ge=0,
        description="Subscribe or connect this many ms after this service itself started. Services "
        "start (and must be ready) before clients, so it joins a little less than join_after_ms after "
        "the run's clock starts; the run's timeline shows it as 'not joined yet' until it joins.")


class BrokerNode(NodeBase):
    """A RabbitMQ node the lab starts and owns, or an external one given by URL."""

    kind: Literal[NodeKind.BROKER] = NodeKind.BROKER
    url: str | None = Field(default=None, description="External AMQP URL; unset = a managed node.")
    urls: list[str] | None = Field(
        default=None, description="External cluster: one AMQP URL per member (clients fail over).")
    cluster_size: Literal[1, 3, 5] = Field(
        default=1, description="Managed: how many rabbitmq-server members form this broker (1, 3, 5).")

    @field_validator("url")
    @classmethod
    def _amqp_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("amqp://", "amqps://")):
            raise ValueError("must start with amqp:// or amqps://")
        return value

    @field_validator("urls")
    @classmethod
    def _amqp_urls(cls, value: list[str] | None) -> list[str] | None:
        for url in value or []:
            if not url.startswith(("amqp://", "amqps://")) or " " in url:
                raise ValueError(f"'{url}' must start with amqp:// or amqps:// (no spaces)")
        return value

    @model_validator(mode="after")
    def _one_kind_of_broker(self) -> BrokerNode:
        if self.url is not None and self.urls:
            raise ValueError("give either url (one external broker) or urls (an external cluster)")
        if (self.url is not None or self.urls) and self.cluster_size > 1:
            raise ValueError("cluster_size is for a managed cluster; an external one is its urls")
        return self

    @property
    def managed(self) -> bool:
        return self.url is None and not self.urls

    @property
    def clustered(self) -> bool:
        return self.cluster_size > 1 or len(self.urls or []) > 1

    @property
    def external_url(self) -> str | None:
        """What clients of an external broker get: its URL, or its members' URLs space separated."""
        return " ".join(self.urls) if self.urls else self.url

    def member_names(self) -> list[str]:
        """Managed cluster members as scenarios and the GUI name them: `rabbit/1` ... `rabbit/N`."""
        if not self.managed or self.cluster_size < 2:
            return []
        return [f"{self.name}/{i}" for i in range(1, self.cluster_size + 1)]


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
        default=None, description="From a service to a service: http (default) or zmq.")
    delivery: EventDelivery = Field(
        default=EventDelivery.DUAL_WRITE,
        description="Events: send after the commit (dual write) or through a transactional outbox.")
    timeout_ms: int = Field(default=1000, ge=0, description="Calls: per-call timeout (0 = wait forever).")
    retries: int = Field(default=0, ge=0, description="Calls: resends of the same downstream ID.")
    max_concurrent: int = Field(
        default=0, ge=0, description="Calls: bulkhead, calls at once; excess refused (0 = no limit).")
    breaker_failures: int = Field(
        default=0, ge=0, description="Calls: consecutive failures that open the breaker (0 = none).")
    breaker_open_ms: int = Field(
        default=5000, ge=1, description="Calls: the breaker half-opens after this long.")

    @property
    def key(self) -> str:
        return self.name or f"{self.source}->{self.target}"


class Action(str, Enum):
    KILL = "kill"
    STOP = "stop"
    START = "start"
    RESTART = "restart"
    PAUSE = "pause"
    RESUME = "resume"
    CUT = "cut"
    HEAL = "heal"
    DELAY = "delay"
    LOSSY = "lossy"

    @property
    def on_link(self) -> bool:
        return self in (Action.CUT, Action.HEAL, Action.DELAY, Action.LOSSY)


class Step(_Strict):
    """One action of a scenario, at a time or after a number of messages sent."""

    action: Action
    target: str = Field(description="A node name, or a link name ('from->to').")
    at_s: float | None = Field(default=None, ge=0)
    after_messages: int | None = Field(default=None, ge=1)
    latency_ms: float = Field(default=0.0, ge=0)
    jitter_ms: float = Field(default=0.0, ge=0)
    loss: float = Field(default=0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _when(self) -> Step:
        if (self.at_s is None) == (self.after_messages is None):
            raise ValueError("give exactly one of 'at_s' or 'after_messages'")
        return self


class Topology(_Strict):
    version: int = FORMAT_VERSION
    name: Name
    description: str = ""
    duration_s: float | None = Field(default=None, gt=0, description="Stop the run after this long.")
    nodes: list[Node] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    scenario: list[Step] = Field(default_factory=list)
    expectations: list[str] = Field(default_factory=list)

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
        if isinstance(source, ServiceNode) and not self.receives_mail(source.name):
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
