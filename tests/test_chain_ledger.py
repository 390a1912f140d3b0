"""The chain ledger (engines.ledger.chain) on hand-made books, and its table in the HTML report.

The same counts against real processes: tests/runtime/test_chains_run.py and examples 17-21."""

from __future__ import annotations

import numpy as np

from engines.ledger.chain import ChainHop, compute
from engines.ledger.identity import HopIds, hop_name, origin_of, parse_hop_name
from engines.ledger.reconcile import ClientBook, RouteBook, ServiceBook
from engines.report.html import ReportData, render


def book(name: str, index: int, routes: list[RouteBook], one_to_many: bool = False) -> ClientBook:
    return ClientBook(name=name, index=index, status=np.ones(10, dtype=np.uint8), counters={},
                      acknowledges=True, one_to_many=one_to_many, routes=routes)


def test_identity_is_derived_from_the_upstream_id_and_the_hop():
    name = hop_name("order->payment", "shop")
    assert parse_hop_name(name) == ("order->payment", "shop") and origin_of(name) == "shop"
    assert parse_hop_name("shop") is None and origin_of("shop") == "shop"
    ids = HopIds("order->payment", {0: 5})
    assert ids.downstream(0, 42) == ids.downstream(0, 42) == (5, 42)  # a redelivery: the same ID
    assert ids.downstream(1, 42) is None


def test_a_hop_that_drops_and_one_that_doubles_are_told_apart():
    shop = book("shop", 0, [RouteBook("order", "shop->order", "shop->order")])
    hop1 = book("order->pay@shop", 1, [RouteBook("pay", "order->pay", "order->pay")])
    hop2 = book("pay->fraud@shop", 2, [RouteBook("fraud", "pay->fraud", "pay->fraud")])
    services = {
        "order": ServiceBook("order", effects={0: np.arange(10)}),
        "pay": ServiceBook("pay", effects={1: np.array([0, 1, 2, 3, 4, 5, 6, 7])},  # 8, 9 dropped
                           refused={1: np.array([3])}),
        "fraud": ServiceBook("fraud", effects={2: np.array([0, 1, 2, 3, 4, 5, 6, 7, 7])}),  # 7 twice
    }
    hops = [ChainHop(hop1, "order->pay", "order", "shop", [0]),
            ChainHop(hop2, "pay->fraud", "pay", "shop", [1])]
    table = compute([shop], hops, services)["shop"]
    first, second = table["stages"]
    assert (first["upstream"], first["reached"], first["hop_lost"]) == (10, 8, 2)
    assert first["duplicates_suppressed"] == 1 and first["duplicates_processed"] == 0
    assert (second["upstream"], second["reached"], second["hop_lost"]) == (8, 8, 0)
    assert second["duplicates_processed"] == 1
    assert table["entered"] == 10 and table["e2e_reached"] == 8
    assert table["e2e_lost"] == first["hop_lost"] + second["hop_lost"]
    assert table["e2e_duplicates"] == 2


def test_a_fan_out_reaches_the_end_only_where_every_subscriber_committed():
    shop = book("shop", 0, [RouteBook("order", "shop->order", "shop->order")])
    fan = book("order->rabbit@shop", 1, [RouteBook("pay", "rabbit->pay", "order->rabbit", 0),
                                          RouteBook("mail", "rabbit->mail", "order->rabbit", 1)],
               one_to_many=True)
    services = {"order": ServiceBook("order", effects={0: np.arange(4)}),
                "pay": ServiceBook("pay", effects={1: np.arange(4)}),
                "mail": ServiceBook("mail", effects={1: np.array([0, 1, 2])})}
    table = compute([shop], [ChainHop(fan, "order->rabbit", "order", "shop", [0])], services)["shop"]
    assert table["stages"][0]["reached"] == 3 and table["stages"][0]["hop_lost"] == 1
    assert table["stages"][0]["duplicates_processed"] == 0  # two subscribers are not a duplicate
    assert table["e2e_lost"] == 1


def test_the_report_shows_the_chain_in_hop_order(tmp_path):
    chains = {"shop": {"entered": 10, "e2e_reached": 8, "e2e_lost": 2, "e2e_duplicates": 0,
                       "stages": [{"link": "order->pay", "to": "pay", "upstream": 10, "reached": 8,
                                   "hop_lost": 2, "orphans": 0, "duplicates_processed": 0,
                                   "duplicates_suppressed": 0},
                                  {"link": "pay->fraud", "to": "fraud", "upstream": 8, "reached": 8,
                                   "hop_lost": 0, "orphans": 0, "duplicates_processed": 0,
                                   "duplicates_suppressed": 0}]}}
    path = render(ReportData("t", "", 1.0, {}, chains=chains), [], tmp_path / "r.html")
    html = path.read_text()
    assert "Chains, hop by hop" in html and "2 lost on the way" in html
    assert html.index("order-&gt;pay") < html.index("pay-&gt;fraud")


def test_labgui_run_prints_the_chain_and_the_calls():
    from engines.runtime.table import format_chains

    summary = {"chains": {"shop": {"entered": 10, "e2e_reached": 8, "e2e_lost": 2, "e2e_duplicates": 1,
                                   "stages": [{"link": "order->pay", "to": "pay", "upstream": 10,
                                               "reached": 8, "hop_lost": 2, "orphans": 0,
                                               "duplicates_processed": 0, "duplicates_suppressed": 1}]}},
               "links": {"order->pay": {"calls_in_flight_peak": 4, "rejected_bulkhead": 7,
                                        "short_circuited": 30, "breaker_open": 2}}}
    lines = format_chains(summary)
    assert lines[0] == "chain of 'shop': 10 entered, 8 reached the end, 2 lost on the way, 1 duplicate(s)"
    assert lines[2].split() == ["order->pay", "(pay)", "10", "8", "2", "0", "0", "1"]
    assert lines[-1].split() == ["order->pay", "4", "7", "30", "2"]
