"""Live counts (engines.ledger.live): lost only when certain, the rest split by where it is."""

from __future__ import annotations

import numpy as np

from engines.ledger import live
from engines.ledger.reconcile import ClientBook, RouteBook, ServiceBook
from engines.nodes import records


def _book(name: str, n: int, index: int = 0) -> ClientBook:
    status = np.full(n, records.SENT, dtype=np.uint8)
    return ClientBook(name=name, index=index, status=status, counters={}, acknowledges=False,
                      one_to_many=True, routes=[RouteBook("sub", "pub->sub", "pub->sub")])


def test_a_gap_below_what_a_zmq_subscriber_processed_is_certainly_dropped():
    book = _book("pub", 10)
    sub = ServiceBook("sub", effects={0: np.array([0, 1, 2, 5, 6])})  # 3 and 4 skipped; 7-9 on their way
    out = live.dropped([book], {"sub": sub}, in_order={"pub"})
    assert out == {"total": 2, "pub": 2, "sub": 2, "pub->sub": 2}


def test_no_certain_drop_for_a_client_that_may_resend_or_reorder():
    book = _book("pub", 10)
    sub = ServiceBook("sub", effects={0: np.array([0, 5])})
    assert live.dropped([book], {"sub": sub}, in_order=set()) == {"total": 0}


def test_pending_splits_what_is_not_processed_and_never_calls_it_lost():
    split = live.pending({"lost": 2836, "in_doubt": 40}, dropped_total=0, queued=2251)
    assert split == {"not_processed": 2876, "unconfirmed": 40, "in_queue": 2251, "in_flight": 585, "lost": 0}
    capped = live.pending({"lost": 10, "in_doubt": 0}, dropped_total=4, queued=100)
    assert capped == {"not_processed": 6, "unconfirmed": 0, "in_queue": 6, "in_flight": 0, "lost": 4}
