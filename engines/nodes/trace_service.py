"""A service's trace of one committed batch: deliveries, then commits or refused duplicates.

The handler never loops over a batch in Python on its hot path; this keeps to
that where it can: a batch of consecutive sequence numbers of one client, none
redelivered, retried or refused (the usual case) is two range records. Any
other batch gets a record per delivery and one per outcome (in ANOMALIES mode
only for the unusual deliveries and the uniform sample).
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter

from engines.nodes import tracefile as tf
from engines.transports.delivery import DUPLICATE, DeliveryRow

_CLIENT, _SEQ, _ATTEMPT, _REDELIVERED = itemgetter(0), itemgetter(1), itemgetter(2), itemgetter(3)


def _plain_range(batch: Sequence[DeliveryRow], outcomes: Sequence[int] | None) -> bool:
    if any(map(_REDELIVERED, batch)) or any(map(_ATTEMPT, batch)):
        return False
    if outcomes is not None and DUPLICATE in outcomes:
        return False
    first = batch[0]
    if len(batch) == 1:
        return True
    if len(set(map(_CLIENT, batch))) != 1:
        return False
    seqs = list(map(_SEQ, batch))
    return seqs == list(range(first[1], first[1] + len(seqs)))


def trace_batch(trace: tf.TraceWriter, batch: Sequence[DeliveryRow], outcomes: Sequence[int] | None,
                t_in: int, t_commit: int, plain: bool = False) -> None:
    """Record `batch` as delivered at `t_in` and (with `outcomes`) committed at `t_commit`.
    `plain`: the handler found it a `plain_run` (then only refused duplicates are left to see)."""
    add = trace.add
    if len(batch) == 1:  # lockstep: the same records as a plain range of one, without the maps
        d = batch[0]
        if not (d[3] or d[2]) and (outcomes is None or outcomes[0] != DUPLICATE):
            first = (d[0] << 32) | d[1]
            add(t_in, tf.DELIVER, first, 0, 0, 1)
            if outcomes is not None:
                add(t_commit, tf.COMMIT, first, 0, 0, 1)
            return
    if (DUPLICATE not in outcomes if plain and outcomes is not None else _plain_range(batch, outcomes)):
        first = (batch[0][0] << 32) | batch[0][1]
        flags = tf.F_RANGE if len(batch) > 1 else 0
        add(t_in, tf.DELIVER, first, 0, flags, len(batch))
        if outcomes is not None:
            add(t_commit, tf.COMMIT, first, 0, flags, len(batch))
        return
    every = trace.mode == tf.ALL
    sample = trace.sample
    for i, d in enumerate(batch):
        dup = outcomes is not None and outcomes[i] == DUPLICATE
        if not (every or d[3] or d[2] or dup or d[1] % sample == 0):
            continue
        msg = (d[0] << 32) | d[1]
        add(t_in, tf.DELIVER, msg, d[2], tf.F_REDELIVERED if d[3] else 0, 0)
        if outcomes is not None:
            add(t_commit, tf.DUP_REFUSED if dup else tf.COMMIT, msg, d[2], 0, 0)
