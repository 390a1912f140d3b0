"""Each cause of loss, from a fake summary over a real example's settings: the right node, fault, time, setting."""

from __future__ import annotations

from engines.explain.model import Fault
from tests.explain.helpers import explain, facts, link, node, one


def test_slow_joiner_names_the_late_subscriber_and_its_join_time_not_the_other() -> None:
    f = facts("08", {"total": {"lost": 1631}, "nodes": {"latecomer": {"lost": 1631}, "dashboard": {"lost": 0}},
                     "links": {"prices->latecomer": {"lost": 1631}}},
              [Fault(1.98, "joined", "latecomer")],
              ids={"lost": {"count": 1631, "ids": [f"prices:{i}" for i in range(1631)]}})
    found = explain(f)
    total = one(found, "total", "total", "lost")
    assert total.text.startswith("lost 1,631: the subscriber 'latecomer' joined at 1.98 s; PUB/SUB drops")
    assert "slow joiner" in total.text and "'dashboard'" not in total.text
    assert total.causes == ("slow-joiner",)
    assert total.message_ids[:2] == ("prices:0", "prices:1") and total.story_refs[0] == "msg-prices-0"
    assert "prices:0, prices:1, prices:2, prices:3, prices:4 and 1,626 more" in total.text
    assert one(found, "link", "prices->latecomer", "lost").causes == ("slow-joiner",)
    assert one(found, "node", "latecomer", "lost").message_ids[0] == "prices:0"


def test_a_loss_only_partly_explained_says_which_part_is_not() -> None:
    f = facts("08", {"total": {"lost": 500}, "nodes": {"latecomer": {"lost": 400}, "dashboard": {"lost": 100}}},
              [Fault(1.98, "joined", "latecomer")])
    e = one(explain(f), "total", "total", "lost")
    assert e.causes == ("slow-joiner", "unknown")
    assert "'latecomer' joined at 1.98 s" in e.text
    assert "no recorded fault or setting explains the rest ('dashboard' lost 100)" in e.text
    assert "('dashboard' hwm 1000)" in e.text


def test_a_subscriber_falling_behind_loses_past_its_high_water_mark() -> None:
    def slow(data: dict) -> None:  # type: ignore[type-arg]
        node(data, "dashboard")["processing_ms"] = 5
        node(data, "dashboard")["hwm"] = 50
        node(data, "latecomer")["join_after_ms"] = 0
    f = facts("08", {"total": {"lost": 300}, "nodes": {"dashboard": {"lost": 300}, "latecomer": {"lost": 0}}},
              change=slow)
    e = one(explain(f), "node", "dashboard", "lost")
    assert e.causes == ("hwm",) and "hwm 50" in e.text and "processing_ms 5" in e.text


def test_a_pubsub_loss_without_fault_or_slowness_is_not_pinned_on_a_cause() -> None:
    """Both subscribers lost, the late one joined before the publisher started: no cause is invented."""
    f = facts("08", {"total": {"lost": 1244}, "nodes": {"dashboard": {"lost": 622}, "latecomer": {"lost": 622}}},
              [Fault(-5.53, "joined", "latecomer")])
    e = one(explain(f), "total", "total", "lost")
    assert e.causes == ("unknown",) and "slow joiner" not in e.text
    assert "'latecomer' joined at -5.53 s" in e.text  # the known events, said as they are
    assert "high-water mark ('dashboard' hwm 1000, 'latecomer' hwm 1000)" in e.text


def test_auto_ack_consumer_killed_loses_what_it_held() -> None:
    f = facts("07", {"nodes": {"fulfil-b": {"lost": 40}}}, [Fault(2.0, "killed", "fulfil-b")],
              change=lambda d: node(d, "fulfil-b").update(ack="auto"))
    e = one(explain(f), "node", "fulfil-b", "lost")
    assert e.causes == ("auto-ack",)
    assert "'fulfil-b' was killed at 2.00 s with ack: auto" in e.text and "prefetch 50" in e.text


def test_manual_ack_consumer_killed_explains_why_nothing_was_lost() -> None:
    f = facts("07", {"total": {"lost": 0}, "nodes": {"fulfil-b": {"lost": 0}}}, [Fault(2.0, "killed", "fulfil-b")])
    e = one(explain(f), "node", "fulfil-b", "lost")
    assert e.value == 0 and "ack: manual" in e.text and "killed at 2.00 s" in e.text


def test_push_pull_worker_killed_loses_its_buffers() -> None:
    f = facts("06", {"total": {"lost": 570}, "nodes": {"worker-b": {"lost": 570}, "worker-a": {"lost": 0}}},
              [Fault(2.05, "killed", "worker-b")])
    e = one(explain(f), "total", "total", "lost")
    assert e.causes == ("push-buffer",) and "'worker-b' was killed at 2.05 s" in e.text and "PULL" in e.text


def test_broker_restart_drops_a_non_durable_queue_and_transient_messages() -> None:
    def weak(data: dict) -> None:  # type: ignore[type-arg]
        link(data, "rabbit", "payments")["durable"] = False
        node(data, "checkout")["persistent"] = False
    f = facts("12", {"nodes": {"payments": {"lost": 120}}},
              [Fault(3.0, "killed", "rabbit"), Fault(6.0, "restarted", "rabbit"), Fault(8.5, "up again", "rabbit")],
              change=weak)
    e = one(explain(f), "node", "payments", "lost")
    assert e.causes == ("broker-restart",)
    assert "the broker 'rabbit' was killed at 3.00 s, was restarted at 6.00 s, was up again at 8.50 s" in e.text
    assert "durable: false" in e.text and "persistent: false" in e.text


def test_broker_restart_with_durable_persistent_confirmed_explains_the_zero() -> None:
    f = facts("12", {"total": {"lost": 0}, "nodes": {"payments": {"lost": 0}}}, [Fault(3.0, "killed", "rabbit")])
    e = one(explain(f), "total", "total", "lost")
    assert e.value == 0 and "durable" in e.text and "persistent" in e.text and "confirms: true" in e.text


def test_dual_write_crash_explains_the_chain_hop_lost() -> None:
    chains = {"shop-a": {"stages": [{"link": "order-dual->rabbit", "from": "order-dual", "to": "payment-a",
                                     "upstream": 1000, "reached": 998, "hop_lost": 2}]}}
    f = facts("20", {"chains": chains}, [Fault(1.73, "crashed", "order-dual", "message 300 of this life, after its commit")])
    e = one(explain(f), "chain", "shop-a: order-dual->rabbit", "hop_lost")
    assert e.causes == ("dual-write",)
    assert "'order-dual' crashed at 1.73 s" in e.text and "delivery: dual-write" in e.text and "outbox" in e.text


def test_a_cut_link_explains_the_loss_with_its_time() -> None:
    f = facts("16", {"nodes": {"orders": {"lost": 3}}}, [Fault(3.0, "cut", "storefront->orders"),
                                                          Fault(4.5, "heal", "storefront->orders")])
    e = one(explain(f), "node", "orders", "lost")
    assert e.causes == ("link-fault",) and "'storefront->orders' was cut at 3.00 s" in e.text


def test_expiry_and_length_limit_are_named_with_their_settings() -> None:
    def limits(data: dict) -> None:  # type: ignore[type-arg]
        for worker in ("fulfil-a", "fulfil-b"):  # competing consumers share one queue: same settings
            link(data, "rabbit", worker).update(message_ttl_ms=100, max_length=10)
    f = facts("07", {"nodes": {"fulfil-a": {"lost": 5}}}, change=limits)
    e = one(explain(f), "node", "fulfil-a", "lost")
    assert set(e.causes) == {"expired", "maxlen"}
    assert "message_ttl_ms 100" in e.text and "max_length 10" in e.text and "no dead_letter_exchange" in e.text


def test_unroutable_without_mandatory_is_a_silent_drop() -> None:
    f = facts("09", {"nodes": {"catalogue": {"lost": 4}}},
              change=lambda d: node(d, "catalogue").update(mandatory=False))
    e = one(explain(f), "node", "catalogue", "lost")
    assert e.causes == ("unroutable",) and "mandatory: false" in e.text


def test_no_evidence_says_which_events_are_known_and_names_no_cause() -> None:
    f = facts("07", {"nodes": {"fulfil-a": {"lost": 3}}}, [Fault(1.0, "paused", "fulfil-a")])
    e = one(explain(f), "node", "fulfil-a", "lost")
    assert e.causes == ("unknown",)
    assert "could not be determined" in e.text and "'fulfil-a' was paused at 1.00 s" in e.text
    bare = one(explain(facts("07", {"nodes": {"fulfil-a": {"lost": 3}}})), "node", "fulfil-a", "lost")
    assert "no fault or state change was recorded" in bare.text


def test_nothing_is_said_of_a_zero_no_fault_could_have_moved() -> None:
    found = explain(facts("07", {"total": {"lost": 0, "duplicates_processed": 0}}))
    assert found == []


def test_live_explanations_say_so_far() -> None:
    f = facts("06", {"total": {"lost": 12}, "nodes": {"worker-b": {"lost": 12}}},
              [Fault(2.05, "killed", "worker-b")], final=False)
    assert one(explain(f), "total", "total", "lost").text.startswith("lost 12 so far: ")


def test_live_facts_call_lost_only_what_was_certainly_dropped() -> None:
    """The live ledger's `lost` counts what is still on its way; a live explanation, as the live
    tiles and canvas, names only the certain drops and says nothing of what is not answered yet."""
    from engines.explain.facts import live
    from engines.topology import topofile
    from tests.conftest import EXAMPLES

    topology = topofile.load(next(p for p in EXAMPLES if p.name.startswith("08"))).topology
    ledger = {"total": {"lost": 900, "in_doubt": 4}, "nodes": {"latecomer": {"lost": 600}, "dashboard": {"lost": 300}},
              "links": {"prices->latecomer": {"lost": 600}, "prices->dashboard": {"lost": 300}},
              "dropped": {"total": 0}}
    on_its_way = explain(live(topology, ledger, []))
    assert not [e for e in on_its_way if e.counter in ("lost", "in_doubt") and e.value], on_its_way
    ledger["dropped"] = {"total": 7, "prices": 7, "latecomer": 7, "prices->latecomer": 7}
    found = explain(live(topology, ledger, []))
    assert one(found, "total", "total", "lost").text.startswith("lost 7 so far: ")
    assert one(found, "link", "prices->latecomer", "lost").value == 7
    assert not [e for e in found if e.subject in ("dashboard", "prices->dashboard") and e.value]
    assert ledger["total"] == {"lost": 900, "in_doubt": 4}  # the live ledger itself is left as it was
