"""The three kinds of node: clients that originate messages, services that consume them, brokers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from engines.topology import stream_offsets
from engines.topology.basics import Name, Position, _Strict
from engines.topology.settings import (
    AckMode,
    BindSide,
    Crash,
    PirateMode,
    ProcessingDistribution,
    RejectMode,
    ReplyTo,
    TransactionMode,
)
from engines.topology.vocabulary import NodeKind, Style, Transport


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
        default="next", json_schema_extra={"pattern": stream_offsets.PATTERN},
        description="amqp stream queues: where this consumer starts (first, last, next, an offset, "
                    "or time:<seconds>s on the run's clock, e.g. time:2.5s: what the broker "
                    "received from then on, to the second) unless it stored an offset earlier in "
                    "the run; it stores the offset of what it acked and, restarted, goes on after it.")
    pirate: PirateMode | None = Field(
        default=None,
        description="zmq: this service is a Pirate queue (the zguide, chapter 4) between request "
                    "clients and the worker services it links to: simple (an LRU queue; workers "
                    "send READY once) or paranoid (heartbeats both ways, liveness, purging, "
                    "reconnect back-off); unset = an ordinary service.")
    pirate_heartbeat_ms: int = Field(
        default=1000, ge=50, le=60_000,
        description="Paranoid Pirate: HEARTBEAT_INTERVAL, the queue and its workers send a "
                    "heartbeat this often (zguide: 1 s).")
    pirate_liveness: int = Field(
        default=3, ge=1, le=100,
        description="Paranoid Pirate: HEARTBEAT_LIVENESS, heartbeats missed before a worker counts "
                    "the queue as gone (reconnects) and the queue purges the worker (zguide: 3).")
    pirate_interval_init_ms: int = Field(
        default=1000, ge=1, le=600_000,
        description="Paranoid Pirate worker: INTERVAL_INIT, the first reconnect back-off (zguide: 1 s).")
    pirate_interval_max_ms: int = Field(
        default=32_000, ge=1, le=600_000,
        description="Paranoid Pirate worker: INTERVAL_MAX, the back-off doubles up to this (zguide: 32 s).")
    join_after_ms: int = Field(
        default=0, ge=0,
        description="Subscribe or connect this many ms after the run's clock starts (the first "
        "client ready to send), or after this life of the service started if that is later (a "
        "restart); the run's timeline shows it as 'not joined yet' until it joins.")

    @field_validator("stream_offset")
    @classmethod
    def _stream_offset(cls, value: str) -> str:
        return stream_offsets.check(value)


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


