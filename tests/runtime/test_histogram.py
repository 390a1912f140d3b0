"""Latency histograms (engines.ledger.histogram): HdrHistogram, fine enough to judge a 1.3 x ratio."""

from __future__ import annotations

import math
import random

import msgpack
import pytest

from engines.ledger.histogram import Histogram, merged


def _exact(values_us: list[float], q: float) -> float:
    ordered = sorted(values_us)
    return ordered[max(0, math.ceil(len(ordered) * q / 100) - 1)]


@pytest.mark.parametrize("q", [50, 90, 99, 99.9])
def test_percentiles_are_within_one_percent_of_the_exact_ones(q: float) -> None:
    rng = random.Random(7)
    values_us = [rng.lognormvariate(4.5, 0.6) for _ in range(20_000)]  # ~90 us, a long tail
    hist = Histogram()
    for us in values_us:
        hist.add(int(us * 1000))
    got, want = hist.percentile_ms(q), _exact(values_us, q) / 1000
    assert got is not None and abs(got - want) / want <= 0.01 + 1e-3 / want  # 1 %, or 1 us


def test_a_ratio_of_1_3_is_seen_as_1_3_not_as_the_next_bucket() -> None:
    raw, lab = Histogram(), Histogram()
    for _ in range(1000):
        raw.add(67_000)  # 67 us
        lab.add(87_100)  # 1.3 x
    ratio = lab.percentile_ms(50) / raw.percentile_ms(50)  # type: ignore[operator]
    assert 1.28 <= ratio <= 1.32


def test_lives_merge_and_the_wire_form_survives_msgpack() -> None:
    first, second = Histogram(), Histogram()
    for i in range(1, 501):
        first.add(i * 1000)
        second.add((i + 500) * 1000)
    wire = msgpack.unpackb(msgpack.packb(first.to_wire()), strict_map_key=False)
    both = merged([Histogram.from_wire(wire), second])
    assert both.total == 1000 and both.max_ns == 1_000_000
    assert abs(both.percentile_ms(50) - 0.5) <= 0.005  # type: ignore[operator]
    assert both.percentile_ms(100) == 1.0  # capped at the exact maximum


def test_an_empty_or_damaged_wire_form_is_an_empty_histogram() -> None:
    assert Histogram.from_wire(None).percentile_ms(50) is None
    assert Histogram.from_wire(Histogram().to_wire()).total == 0
    assert Histogram.from_wire({"hdr": b"HISTFAAAAB", "max": 5}).total == 0


def test_a_run_recorded_with_the_old_log_buckets_still_reads() -> None:
    old = {"b": {"34": 10}, "n": 10, "max": 2_600_000}  # ten at ~2.2-2.8 ms
    hist = Histogram.from_wire(old)
    assert hist.total == 10 and 2.2 <= hist.percentile_ms(50) <= 2.8  # type: ignore[operator]


def test_bulk_latencies_record_what_one_add_each_records() -> None:
    """`add_since` (a batch's send times, counted in C) leaves the same counts, total, min,
    max and wire form as `add` per send time, clamping included (below 0, above 100 s)."""
    rng = random.Random(7)
    for _ in range(200):
        now = rng.randrange(10**12, 10**13)
        sent: dict[int, int] = {}
        if rng.random() < 0.4:  # one-message frames: a send time each, close together (few indices)
            start, gap = int(10 ** rng.uniform(3, 10)), rng.randrange(1, 5000)
            sent = dict.fromkeys(range(now - start, now - start - gap * rng.randrange(1, 700), -gap), 1)
        for _ in range(rng.choice([0, 1, 3, 64, 600])):
            ago = rng.choice([rng.randrange(-5000, 5000), rng.randrange(10**7), int(10 ** rng.uniform(0, 12))])
            sent[now - ago] = sent.get(now - ago, 0) + rng.choice([1, 1, 1, 128])
        if not sent:
            continue
        one, bulk = Histogram(), Histogram()
        for ts, n in sent.items():
            one.add(now - ts, n)
        bulk.add_since(now, sent, sum(sent.values()))
        assert list(bulk.counts()) == list(one.counts())
        assert (bulk.total, bulk.max_ns, bulk.hdr.min_value, bulk.hdr.max_value) == (
            one.total, one.max_ns, one.hdr.min_value, one.hdr.max_value)
        assert bulk.to_wire() == one.to_wire()
        if all(n == 1 for n in sent.values()):  # the list form: each send time once
            listed = Histogram()
            listed.add_since(now, list(sent), len(sent))
            assert listed.to_wire() == one.to_wire() and list(listed.counts()) == list(one.counts())


def test_a_decoded_histogram_is_the_sent_one_and_takes_more_like_a_new_one() -> None:
    """from_wire keeps the lab's own encoding as decoded (no copy); another precision is converted."""
    from hdrh.histogram import HdrHistogram

    rng = random.Random(3)
    sent = Histogram()
    for _ in range(5_000):
        sent.add(int(rng.lognormvariate(12, 1.5)))
    got = Histogram.from_wire(msgpack.unpackb(msgpack.packb(sent.to_wire())))
    assert list(got.counts()) == list(sent.counts()) and got.total == sent.total and got.max_ns == sent.max_ns
    assert [got.percentile_ms(q) for q in (50, 99, 100)] == [sent.percentile_ms(q) for q in (50, 99, 100)]
    got.add(7_000_000)  # it records and merges like any other
    got.merge(sent)
    assert got.total == 2 * sent.total + 1
    assert got.to_wire()["n"] == got.total
    finer = HdrHistogram(1, 3_600_000_000, 3)  # someone else's: 3 digits, up to an hour
    finer.record_value(1234)
    converted = Histogram.from_wire({"hdr": finer.encode(), "max": 1_234_000})
    assert converted.total == 1 and abs(converted.percentile_ms(50) - 1.234) <= 0.0125  # type: ignore[operator]
    assert len(converted.counts()) == len(Histogram().counts())
