"""Duplicates (why twice, refused or applied) and the client-side counters, from fake summaries."""

from __future__ import annotations

from engines.explain.model import Fault
from tests.explain.helpers import explain, facts, link, node, one

CRASH = Fault(1.15, "crashed", "card-authoriser",
              "message 200 of this life, after its commit, before replying or acking (exit 70)")
IDS = {"duplicates_suppressed": {"count": 1, "ids": ["orders:199"]},
       "duplicates_processed": {"count": 1, "ids": ["orders:199"]}}


def test_idempotent_consumer_crash_before_ack_duplicate_suppressed() -> None:
    counts = {"duplicates_delivered": 1, "duplicates_suppressed": 1, "duplicates_processed": 0, "redelivered": 1}
    f = facts("13", {"total": counts, "nodes": {"card-authoriser": counts}}, [CRASH], ids=IDS)
    found = explain(f)
    e = one(found, "node", "card-authoriser", "duplicates_suppressed")
    assert e.text.startswith("duplicates suppressed 1: 'card-authoriser' crashed at 1.15 s after committing "
                             "and before its ack")
    assert "RabbitMQ redelivered" in e.text and "PROCESSED_MESSAGES refused" in e.text
    assert e.message_ids == ("orders:199",) and e.story_refs == ("msg-orders-199",)
    assert "crash-before-ack" in e.causes
    zero = one(found, "node", "card-authoriser", "duplicates_processed")
    assert zero.value == 0 and "no duplicate applied: 'card-authoriser' is an idempotent consumer" in zero.text


def test_naive_consumer_applies_the_redelivery_twice() -> None:
    counts = {"duplicates_delivered": 1, "duplicates_suppressed": 0, "duplicates_processed": 1, "redelivered": 1}
    f = facts("14", {"total": counts, "nodes": {"card-authoriser": counts}}, [CRASH], ids=IDS)
    found = explain(f)
    e = one(found, "total", "total", "duplicates_processed")
    assert "'card-authoriser' crashed at 1.15 s" in e.text and "idempotent: false" in e.text
    assert "applied a second time" in e.text and e.message_ids == ("orders:199",)
    assert "nothing suppressed" in one(found, "total", "total", "duplicates_suppressed").text


def test_resend_in_doubt_after_a_broker_kill() -> None:
    f = facts("12", {"nodes": {"checkout": {"resent_in_doubt": 2, "retries": 2},
                               "payments": {"duplicates_delivered": 1, "duplicates_suppressed": 1}}},
              [Fault(3.04, "killed", "rabbit"), Fault(9.0, "up again", "rabbit")])
    found = explain(f)
    e = one(found, "node", "payments", "duplicates_suppressed")
    assert "resend-in-doubt" in e.causes and "broker-restart" in e.causes
    assert "'checkout' resent 2 in-doubt messages after the broker 'rabbit' was killed at 3.04 s" in e.text
    assert "resend_in_doubt: true" in e.text
    assert "resend_in_doubt: true" in one(found, "node", "checkout", "resent_in_doubt").text


def test_http_crash_before_reply_and_retry_make_a_double_charge() -> None:
    f = facts("15", {"nodes": {"checkout": {"retries": 1}, "payments": {"duplicates_delivered": 1,
                                                                        "duplicates_processed": 1}}},
              [Fault(0.65, "crashed", "payments", "message 50 of this life, after its commit, before replying")])
    e = one(explain(f), "node", "payments", "duplicates_processed")
    assert e.causes[:2] == ("crash-before-reply", "retry")
    assert "'payments' crashed at 0.65 s after committing and before replying" in e.text
    assert "retries: 5, timeout_ms: 500" in e.text and "idempotent: false" in e.text


def test_outbox_relay_resends_what_it_had_not_marked_sent() -> None:
    f = facts("20", {"nodes": {"payment-b": {"duplicates_delivered": 4, "duplicates_suppressed": 4}}},
              [Fault(1.88, "crashed", "order-outbox", "message 300 of this life, after its commit")])
    e = one(explain(f), "node", "payment-b", "duplicates_suppressed")
    assert "outbox-resend" in e.causes and "'order-outbox' crashed at 1.88 s" in e.text
    assert "'payment-b' is an idempotent consumer" in e.text


def test_in_doubt_with_confirms_names_the_broker_kill_and_resend_setting() -> None:
    f = facts("12", {"nodes": {"checkout": {"in_doubt": 5}}}, [Fault(3.0, "killed", "rabbit")],
              change=lambda d: node(d, "checkout").update(resend_in_doubt=False))
    e = one(explain(f), "node", "checkout", "in_doubt")
    assert "publisher confirms never came" in e.text and "'rabbit' was killed at 3.00 s" in e.text
    assert "resend_in_doubt: false, so it did not resend them" in e.text


def test_timeouts_name_the_paused_service_and_the_timeout() -> None:
    f = facts("01", {})
    client = next(n for n, s in f.nodes.items() if s["kind"] == "client")
    service = next(n for n, s in f.nodes.items() if s["kind"] == "service")
    f.faults = [Fault(2.0, "paused", service), Fault(4.0, "resumed", service)]
    f.summary = {"total": {}, "nodes": {client: {"timeouts": 7}}, "links": {}}
    e = one(explain(f), "node", client, "timeouts")
    assert f"'{client}' waits timeout_ms" in e.text and f"'{service}' was paused at 2.00 s, resumed at 4.00 s" in e.text


def test_errors_by_kind_largest_first_with_the_faults() -> None:
    f = facts("12", {"nodes": {"checkout": {"errors": 5, "errors_connection": 3, "errors_nack": 2}}},
              [Fault(3.0, "killed", "rabbit")])
    e = one(explain(f), "node", "checkout", "errors")
    assert e.text.index("3 the broker connection was lost") < e.text.index("2 the broker refused")
    assert "'rabbit' was killed at 3.00 s" in e.text


def test_gave_up_late_and_duplicate_replies() -> None:
    f = facts("16", {"nodes": {"storefront": {"gave_up": 2, "late_replies": 3, "duplicate_replies": 1}}},
              [Fault(3.0, "cut", "storefront->orders")])
    found = explain(f)
    assert "retries: 10" in one(found, "node", "storefront", "gave_up").text
    assert "'storefront->orders' was cut at 3.00 s" in one(found, "node", "storefront", "gave_up").text
    assert "timeout_ms 800" in one(found, "node", "storefront", "late_replies").text
    assert "both the first copy and the resend were answered" in one(found, "node", "storefront",
                                                                    "duplicate_replies").text


def test_bulkhead_and_breaker_name_their_link_settings_and_breaker_events() -> None:
    f = facts("19", {"links": {"payment->fraud": {"rejected_bulkhead": 12, "short_circuited": 40}}},
              [Fault(1.5, "paused", "fraud"), Fault(1.9, "breaker open", "payment", "payment->fraud"),
               Fault(2.5, "resumed", "fraud"), Fault(2.6, "breaker closed", "payment", "payment->fraud")])
    found = explain(f)
    assert "max_concurrent 4" in one(found, "link", "payment->fraud", "rejected_bulkhead").text
    e = one(found, "link", "payment->fraud", "short_circuited")
    assert "breaker_failures 5" in e.text and "breaker_open_ms 500" in e.text
    assert "open at 1.90 s, closed at 2.60 s" in e.text and "'fraud' was paused at 1.50 s" in e.text


def test_dead_lettered_by_reason_and_the_queue_that_dead_letters() -> None:
    f = facts("28", {"nodes": {"morgue": {"dead_lettered": 100, "dead_lettered_rejected": 90,
                                          "dead_lettered_expired": 10}}})
    e = one(explain(f), "node", "morgue", "dead_lettered")
    assert "90 rejected without requeue; 10 expired (TTL)" in e.text
    assert "dead-letters to the default exchange" in e.text and "reject: nth" in e.text


def test_returned_unroutable_and_returned_replies() -> None:
    f = facts("12", {"nodes": {"checkout": {"unroutable": 3}, "payments": {"replies_returned": 2}}},
              change=lambda d: node(d, "payments").update(reply_mandatory=True))
    found = explain(f)
    assert "mandatory: true" in one(found, "node", "checkout", "unroutable").text
    assert "reply_mandatory: true" in one(found, "node", "payments", "replies_returned").text


def test_nacks_from_a_full_reject_publish_queue() -> None:
    def full(data: dict) -> None:  # type: ignore[type-arg]
        link(data, "rabbit", "payments").update(max_length=10, overflow="reject-publish")
    f = facts("12", {"nodes": {"checkout": {"nacks": 4}}}, change=full)
    assert "overflow: reject-publish" in one(explain(f), "node", "checkout", "nacks").text
