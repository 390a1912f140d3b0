"""A delivery as a service received it, and the outcomes the handler gives back."""

from __future__ import annotations

from typing import NamedTuple, TypeAlias


class Delivery(NamedTuple):
    """One message as a service received it; the handler needs nothing else.

    `keyed` is False when the service cannot know the message's ID (HTTP
    without an Idempotency-Key): the lab still records the true ID so the
    ledger can count the double charge, but the service cannot deduplicate.
    `redelivered` is 0 or 1 (an int: SQLite binds it several times faster
    than a bool). On the hot path a driver may pass plain tuples with these
    six fields in this order; the handler only indexes them.
    """

    client: int
    seq: int
    attempt: int
    redelivered: int
    ts_ns: int
    keyed: bool = True


APPLIED = 1  # business effect committed now
DUPLICATE = 2  # refused through PROCESSED_MESSAGES; answer as if applied (idempotent reply)
CALL_FAILED = 3  # its call downstream did not answer: nothing committed; no reply, no ack (redelivered)


# What drivers may hand the handler: a Delivery, or on the hot path a plain tuple with the same
# fields in the same order (client, seq, attempt, redelivered, ts_ns, keyed); a Delivery is one.
DeliveryRow: TypeAlias = tuple[int, int, int, int, int, bool]
