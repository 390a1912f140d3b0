"""The one interface every transport implements: what a driver gets and what it must do.

Read `engines/transports/__init__.py` first (the contract in prose); this module
holds the data a driver receives. Everything here is plain data or a small
protocol, importable in a node process without pydantic or numpy, so a node
starts (and restarts after a kill) in well under a second.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from engines.transports.delivery import APPLIED as APPLIED  # re-exported for drivers
from engines.transports.delivery import CALL_FAILED as CALL_FAILED
from engines.transports.delivery import DUPLICATE as DUPLICATE
from engines.transports.delivery import Delivery as Delivery
from engines.transports.delivery import DeliveryRow as DeliveryRow
from engines.transports.roles import Handler, Pacer, Recorder, Stats

CLIENT = "client"
SERVICE = "service"

# Listener names: one free loopback port each, allocated by the supervisor.
ZMQ_ROUTER = "zmq-router"  # service: REQ and DEALER clients connect here
ZMQ_PULL = "zmq-pull"  # service: PUSH clients connect here
ZMQ_PUB = "zmq-pub"  # client: subscribers connect here (XPUB, so it sees them join)
ZMQ_REPLIES = "zmq-replies"  # client: publish-async-responses replies come back here
ZMQ_PUSH = "zmq-push"  # client (zmq_binds: client): workers connect to its PUSH
ZMQ_SUB = "zmq-sub"  # service (zmq_binds: service): the publisher connects to its SUB
ZMQ_WORKERS = "zmq-workers"  # Pirate queue: its workers connect to this backend ROUTER
HTTP = "http"  # service: host:port of its HTTP server
SMTP = "smtp"  # mail service: host:port of its SMTP server (aiosmtpd)
IMAP = "imap"  # mail service with readers: host:port of its IMAP server (pymap)
PLAIN_LISTENERS = (HTTP, SMTP, IMAP)  # host:port, not a ZeroMQ tcp:// endpoint

EXIT_OK = 0
EXIT_GAVE_UP = 3  # a client abandoned after its retries (Lazy Pirate); a clean, counted error
EXIT_CRASH = 70  # a service's configured crash (os._exit)
EXIT_BAD_SPEC = 78


class DownstreamFailed(Exception):
    """Raised by a handler whose call downstream did not answer (timeout, error, bulkhead, breaker):
    nothing was committed; the driver answers its caller with an error (http: 502)."""


class GiveUp(Exception):
    """Raised by a client driver that abandons the run (the node exits with EXIT_GAVE_UP)."""


def _from_dict(cls: type, data: Mapping[str, Any]) -> Any:
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class ClientConfig:
    """A client node's settings (mirrors engines.topology.model.ClientNode; values as in the file)."""

    name: str
    style: str = "request-response"
    transport: str = "zmq"
    rate: float = 100.0
    count: int | None = 1000
    duration_s: float | None = None
    payload_bytes: int = 256
    timeout_ms: int = 1000
    retries: int = 3
    lazy_pirate: bool = True
    messages_per_frame: int = 1
    immediate: bool = False
    wait_for_subscribers: bool = True
    linger_ms: int = 3000
    heartbeat_ivl_ms: int = 0
    heartbeat_timeout_ms: int = -1
    heartbeat_ttl_ms: int = 0
    zmq_binds: str = "usual"
    req_resend: bool = False
    req_relaxed: bool = False
    req_correlate: bool = False
    in_flight: int = 100
    collect_ms: int = 500
    idempotency_key: bool = True
    confirms: bool = True
    persistent: bool = True
    mandatory: bool = True
    resend_in_doubt: bool = True
    expiration_ms: int | None = None  # amqp: per-message TTL
    reply_to: str = "queue"  # amqp request styles: "queue" or "direct" (amq.rabbitmq.reply-to)
    declare: bool = True  # amqp: declare the channel before publishing
    heartbeat_s: int = 5  # amqp: connection heartbeat asked for (0 = off)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClientConfig:
        return _from_dict(cls, data)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ServiceConfig:
    """A service node's settings (mirrors engines.topology.model.ServiceNode)."""

    name: str
    processing_ms: float = 0.0
    processing: str = "fixed"
    reply: bool = True
    idempotent: bool = True
    store: str | None = None  # logical service whose database this instance shares
    transaction: str = "one"  # one | marker-first | effect-first
    crash: Mapping[str, Any] | None = None  # {"after": N, "point": "after-commit"}
    restart_on_crash: bool = False
    ack: str = "manual"
    prefetch: int = 100
    hwm: int = 1000
    router_mandatory: bool = False
    subscribe: bool = True
    join_after_ms: int = 0
    reject: str = "never"  # never | fraction | nth | failed (amqp: basic.reject instead of processing)
    reject_fraction: float = 0.1
    reject_nth: int = 10
    fail_every: int | None = None  # message N fails every time when N % fail_every == 0
    requeue: bool = False
    reply_mandatory: bool = False
    heavy_every: int | None = None  # every Nth message (by sequence number) costs heavy_ms more
    heavy_ms: float = 0.0
    handler_thread: bool = False  # amqp: the work in a thread of its own (heartbeats go on)
    stream_offset: str = "next"  # amqp stream queues: first | last | next | an offset
    heartbeat_s: int = 5  # amqp: connection heartbeat asked for (0 = off)
    pirate: str | None = None  # zmq: a Pirate queue ("simple" | "paranoid"), unset = a service
    pirate_heartbeat_ms: int = 1000  # Paranoid Pirate: HEARTBEAT_INTERVAL
    pirate_liveness: int = 3  # Paranoid Pirate: HEARTBEAT_LIVENESS

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServiceConfig:
        return _from_dict(cls, data)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Peer:
    """A node a client sends to, as discovery resolved it.

    `endpoints` maps the peer's listener names (ZMQ_ROUTER, HTTP...) to
    addresses. For amqp, the peer is the broker: `broker_url` carries the
    per-run credentials and `channel` the queue or exchange settings.
    `index` is the peer's position in this client's list: services stamp it
    nowhere, but reply matching and per-link counters use it.
    """

    name: str
    link: str
    index: int
    endpoints: Mapping[str, str] = field(default_factory=dict)
    join_after_ms: int = 0
    link_hwm: int | None = None
    broker_url: str | None = None
    channel: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Inbound:
    """One stream a service consumes: a client's link into it, direct or through a broker.

    `listener` names this service's own listener the stream arrives on (zmq,
    http); for publish styles the service connects out instead, to the
    client's `publisher` endpoints (ZMQ_PUB, ZMQ_REPLIES). amqp streams carry
    `broker_url` and `channel` (and `link` is the broker->service link).
    """

    client: str
    client_index: int
    link: str
    style: str
    transport: str
    peer_index: int = 0  # this service's position in the client's peers (stamped in replies)
    listener: str | None = None
    publisher: Mapping[str, str] = field(default_factory=dict)
    link_hwm: int | None = None
    broker_url: str | None = None
    channel: Mapping[str, Any] | None = None




@dataclass
class ClientContext:
    """Everything a client driver gets. It sends `pacer`'s sequence numbers to `peers`.

    The driver records every event on `recorder` (never logs per message),
    stops promptly when `stop` is set, and returns when the pacer is empty and
    its outstanding requests are answered, timed out or given up.
    """

    config: ClientConfig
    client_index: int
    peers: list[Peer]
    listen: Mapping[str, str]
    pacer: Pacer
    recorder: Recorder
    stop: threading.Event
    log: logging.Logger
    payload: bytes
    expect_subscribers: int = 0  # publish styles: on-time subscribers to wait for
    clients: Mapping[str, int] = field(default_factory=dict)  # every client name -> index
    run_token: str | None = None  # the run's secret (pub/sub: only the run's subscribers count)
    event: Callable[..., None] = field(default=lambda kind, **fields: None)  # a timeline event


@dataclass
class ServiceContext:
    """Everything a service driver gets. It receives `inbound` streams and calls `handler`.

    `handler.handle_batch(deliveries)` runs the SQLite transaction (business
    row, PROCESSED_MESSAGES when idempotent) and the configured crash; it
    returns one outcome (APPLIED or DUPLICATE) per delivery, after the commit.
    Only then may the driver reply or ack. Several threads may call
    `handler.handle(delivery)` at once (it group-commits them). Call `ready()`
    once the driver is listening or connected: the supervisor starts clients
    only after every service is ready.
    """

    config: ServiceConfig
    listen: Mapping[str, str]
    inbound: list[Inbound]
    handler: Handler
    stats: Stats
    stop: threading.Event
    log: logging.Logger
    clients: Mapping[str, int] = field(default_factory=dict)  # every client name -> index
    ready: Callable[[], None] = field(default=lambda: None)  # call once bound or connected
    run_token: str | None = None  # the run's secret (pub/sub: proves a subscriber is the run's)
    event: Callable[..., None] = field(default=lambda kind, **fields: None)  # a timeline event
    node_dir: Path | None = None  # the node's own directory (a mail service keeps its Maildirs there)

    def max_batch(self) -> int:
        """How many deliveries to take at once: at most ~20 ms of work, so a slow
        service holds little in memory and its high-water mark stays meaningful."""
        ms = self.config.processing_ms
        return 512 if ms <= 0.04 else max(1, min(512, int(20 / ms)))


ClientRun = Callable[[ClientContext], None]
ServiceRun = Callable[[ServiceContext, Sequence[Inbound]], None]


@dataclass(frozen=True)
class DriverInfo:
    """A registered driver: which (transport, style, role) it serves and how.

    `listens`: listener names this role binds (the supervisor gives each a
    free loopback port before the node starts). `group`: service drivers with
    the same group key run once per service for all their inbound streams
    (e.g. one ROUTER serves both REQ and DEALER clients). `acknowledges`:
    whether the client learns the system has each message (reply, 2xx,
    confirm), given the client's config; the ledger counts `lost` from the
    acknowledged IDs when true, from the sent IDs when false.
    """

    transport: str
    style: str
    role: str
    run: Callable[..., None]
    listens: tuple[str, ...] = ()
    group: str = ""
    acknowledges: Callable[[Mapping[str, Any]], bool] = field(default=lambda config: True)
