"""The settings a node or link chooses from: processing, crashes, transactions, acks, queues, replies.

Each enum's values are the words a topology file uses; defaults live with the
fields that use them (engines.topology.nodes, engines.topology.model).
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from engines.topology.basics import _Strict


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


class PirateMode(str, Enum):
    """A zmq queue between request clients and workers (the zguide, chapter 4)."""

    SIMPLE = "simple"  # Simple Pirate: LRU queue, workers (REQ) send READY once
    PARANOID = "paranoid"  # Paranoid Pirate: heartbeats both ways, liveness, reconnect back-off


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


