"""The ledger's arithmetic on fake records: every counter, scopes, and the SIGKILL caveat."""

from __future__ import annotations

import numpy as np

from engines.ledger.counters import COUNTERS, NODE_RECORDED, NODE_RECORDED_PREFIXES
from engines.ledger.histogram import Histogram
from engines.ledger.reconcile import ClientBook, RouteBook, ServiceBook, compute
from engines.nodes.records import ACKED, SENT, TIMEOUT


def _status(*flags: int) -> np.ndarray:
    return np.array(flags, dtype=np.uint8)


def _book(status, routes, **kw) -> ClientBook:
    defaults = dict(name="c", index=0, counters={"attempts": len(status), "retries": 0},
                    acknowledges=True, one_to_many=False)
    defaults.update(kw)
    return ClientBook(status=status, routes=routes, **defaults)


def test_request_response_every_counter():
    # seq 0: acked and processed; 1: acked, processed twice (naive, after a lost reply);
    # 2: sent, timed out, processed but never acked; 3: sent, never processed, not acked (in doubt);
    # 4: acked but not processed (a broken promise: lost)
    status = _status(SENT | ACKED, SENT | ACKED, SENT | TIMEOUT, SENT | TIMEOUT, SENT | ACKED)
    client = _book(status, [RouteBook("s", "c->s", "c->s")],
                   counters={"attempts": 7, "retries": 2, "timeouts": 2, "replies": 3})
    service = ServiceBook("s", effects={0: np.array([0, 1, 1, 2])}, refused={0: np.array([0])})
    hist = Histogram()
    for ms in (1, 2, 3, 100):
        hist.add(ms * 1_000_000)
    result = compute([client], {"s": service}, {"c": hist}, duration_s=2.0)
    total = result["total"]
    assert total["sent"] == 5 and total["acknowledged"] == 3
    assert total["delivered"] == 5  # 4 effects + 1 refused duplicate
    assert total["processed"] == 3
    assert total["duplicates_processed"] == 1
    assert total["duplicates_suppressed"] == 1
    assert total["duplicates_delivered"] == 2  # 5 deliveries of 3 distinct IDs
    assert total["lost"] == 1 and total["in_doubt"] == 1
    assert total["retries"] == 2 and total["timeouts"] == 2 and total["attempts"] == 7
    assert total["throughput"] == 1.5 and total["duration_s"] == 2.0
    assert total["max_latency_ms"] == 100.0 and 1.0 <= total["p50_latency_ms"] <= 2.3
    per_node = {c for c in COUNTERS if c in NODE_RECORDED or c.startswith(NODE_RECORDED_PREFIXES)}
    assert set(COUNTERS) - per_node - {"input_errors"} <= set(total)  # the rest: per node
    assert result["links"]["c->s"]["lost"] == 1 and result["nodes"]["s"]["duplicates_processed"] == 1
    assert not result["bounds"]


def test_notification_without_acks_counts_lost_from_sent():
    status = _status(SENT, SENT, SENT, SENT)
    client = _book(status, [RouteBook("a", "c->a", "c->a", 0), RouteBook("b", "c->b", "c->b", 1)],
                   acknowledges=False)
    services = {"a": ServiceBook("a", effects={0: np.array([0, 2])}),
                "b": ServiceBook("b", effects={0: np.array([1])})}
    result = compute([client], services)
    assert result["total"]["lost"] == 1 and result["total"]["in_doubt"] == 0
    assert result["nodes"]["a"]["processed"] == 2 and result["nodes"]["b"]["processed"] == 1
    assert "lost" not in result["links"]["c->a"], "round robin: a loss cannot be put on one link"


def test_one_id_processed_by_two_instances_is_a_duplicate_effect():
    status = _status(SENT | ACKED, SENT | ACKED)
    client = _book(status, [RouteBook("a", "c->a", "c->a", 0), RouteBook("b", "c->b", "c->b", 1)])
    services = {"a": ServiceBook("a", effects={0: np.array([0, 1])}),
                "b": ServiceBook("b", effects={0: np.array([1])})}  # a retry went to the other one
    total = compute([client], services)["total"]
    assert total["processed"] == 2 and total["duplicates_processed"] == 1
    assert total["duplicates_delivered"] == 1


def test_publish_subscribe_counts_per_subscriber():
    status = _status(*([SENT] * 10))
    client = _book(status, [RouteBook("fast", "p->fast", "p->fast", 0),
                            RouteBook("late", "p->late", "p->late", 1)],
                   acknowledges=False, one_to_many=True)
    services = {"fast": ServiceBook("fast", effects={0: np.arange(10)}),
                "late": ServiceBook("late", effects={0: np.arange(6, 10)})}
    result = compute([client], services)
    assert result["links"]["p->fast"]["lost"] == 0 and result["links"]["p->fast"]["sent"] == 10
    assert result["links"]["p->late"]["lost"] == 6 and result["links"]["p->late"]["processed"] == 4
    assert result["total"]["lost"] == 6 and result["total"]["processed"] == 14
    assert result["total"]["sent"] == 10


def test_publish_async_responses_acknowledged_per_responder():
    status = _status(SENT | ACKED, SENT | ACKED, SENT)
    masks = np.array([0b11, 0b01, 0], dtype=np.uint32)
    client = _book(status, [RouteBook("a", "p->a", "p->a", 0), RouteBook("b", "p->b", "p->b", 1)],
                   one_to_many=True, masks=masks)
    services = {"a": ServiceBook("a", effects={0: np.array([0, 1, 2])}),
                "b": ServiceBook("b", effects={0: np.array([0])})}
    links = compute([client], services)["links"]
    assert links["p->a"]["acknowledged"] == 2 and links["p->a"]["lost"] == 0
    assert links["p->b"]["acknowledged"] == 1 and links["p->b"]["in_doubt"] == 2


def test_sigkilled_client_marks_lower_bounds():
    client = _book(_status(SENT | ACKED), [RouteBook("s", "c->s", "c->s")], killed=True)
    result = compute([client], {"s": ServiceBook("s", effects={0: np.array([0])})})
    assert result["bounds"]["clients"] == ["c"]
    assert "acknowledged" in result["bounds"]["lower_bounds"] and "lost" in result["bounds"]["lower_bounds"]
    assert result["bounds"]["upper_bounds"] == ["in_doubt"]


def test_rows_for_ids_never_sent_are_hostile_not_deliveries():
    # a client marks an ID SENT in its mapped record before the send, and the kernel keeps
    # that page through a SIGKILL: a row for an unmarked ID was forged by someone else
    client = _book(_status(SENT | ACKED, 0), [RouteBook("s", "c->s", "c->s")], killed=True)
    forged = np.array([0, 1, 5, 2**32 - 1])  # 1: never sent; 5 and 2**32-1: past the record
    result = compute([client], {"s": ServiceBook("s", effects={0: forged}, refused={0: np.array([7])})})
    assert result["total"]["processed"] == 1 and result["total"]["sent"] == 1
    assert result["total"]["delivered"] == 1
    assert result["total"]["hostile"] == result["nodes"]["s"]["hostile"] == 4
    assert "hostile" not in result["nodes"]["c"]


def test_redelivered_flags_are_summed():
    client = _book(_status(SENT | ACKED, SENT | ACKED), [RouteBook("s", "b->s", "c->b")])
    service = ServiceBook("s", effects={0: np.array([0, 1])}, redelivered={0: 1})
    result = compute([client], {"s": service})
    assert result["total"]["redelivered"] == 1
    assert result["links"]["c->b"]["sent"] == 2 and result["links"]["b->s"]["redelivered"] == 1


def test_a_mail_reader_is_a_second_stage_not_another_recipient():
    # four mails acked and stored at 'mail'; 'reader' read 0 twice (killed before \Seen, naive),
    # 1 and 2 once, and never 3 (stored, unread at the end: lost for the reader, not the client)
    from engines.nodes.records import IN_DOUBT

    status = _status(SENT | ACKED, SENT | ACKED | IN_DOUBT, SENT | ACKED, SENT | ACKED)
    client = _book(status, [RouteBook("mail", "c->mail", "c->mail"),
                            RouteBook("reader", "mail->reader", "c->mail", via="mail")])
    mail = ServiceBook("mail", effects={0: np.array([0, 1, 2, 3])}, refused={0: np.array([1])})
    reader = ServiceBook("reader", effects={0: np.array([0, 0, 1, 2])})
    result = compute([client], {"mail": mail, "reader": reader})
    total, nodes, links = result["total"], result["nodes"], result["links"]
    assert total["processed"] == 4 and total["duplicates_processed"] == 0 and total["lost"] == 0
    assert total["duplicates_suppressed"] == 1 and total["resent_in_doubt"] == 1
    assert total["read"] == 4
    assert nodes["reader"]["read"] == nodes["reader"]["delivered"] == 4
    assert nodes["reader"]["processed"] == 3 and nodes["reader"]["duplicates_processed"] == 1
    assert nodes["reader"]["lost"] == 1 and links["mail->reader"]["lost"] == 1
    assert links["c->mail"]["sent"] == 4 and links["c->mail"]["lost"] == 0
