"""A delivery as a service received it, and the outcomes the handler gives back."""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
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

_CLIENT, _SEQ, _ATTEMPT, _REDELIVERED, _KEYED = (itemgetter(i) for i in (0, 1, 2, 3, 5))


def plain_run(batch: Sequence[DeliveryRow]) -> bool:
    """Whether `batch` is the usual one: consecutive sequence numbers of one client, first
    attempts, none redelivered, all keyed. Its IDs are then one range and its counters one
    entry each, so the handler checks this once (a few passes in C) and the store, the trace
    and the counters skip their own passes over the batch."""
    n = len(batch)
    if not n:
        return False
    client, seq = batch[0][0], batch[0][1]
    last = batch[-1]
    if last[0] != client or last[1] != seq + n - 1:
        return False
    return (list(map(_SEQ, batch)) == list(range(seq, seq + n)) and not any(map(_ATTEMPT, batch))
            and not any(map(_REDELIVERED, batch)) and all(map(_KEYED, batch))
            and set(map(_CLIENT, batch)) == {client})
