"""The expectation grammar: what parses, what is refused and why, and how verdicts read."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engines.topology.expectations import ExpectationError, evaluate_all, parse


@pytest.mark.parametrize(
    "text,scope,counter,op,number",
    [
        ("lost == 0", None, "lost", "==", 0.0),
        ("payments.duplicates_processed == 0", "payments", "duplicates_processed", "==", 0.0),
        ("p99_latency_ms<50", None, "p99_latency_ms", "<", 50.0),
        ("a->b.delivered >= 1.5", "a->b", "delivered", ">=", 1.5),
    ],
)
def test_parses(text, scope, counter, op, number):
    e = parse(text)
    assert (e.left.scope, e.left.counter, e.op, e.right.number) == (scope, counter, op, number)


@pytest.mark.parametrize(
    "text,says",
    [
        ("lots == 0", "did you mean lost"),
        ("lost = 0", "use '==' to compare"),
        ("lost == 0 and x", "unexpected at 'and'; supported:"),
        ("__import__('os') == 1", "cannot read"),
        ("1 == 1", "compares only numbers"),
        ("", "expected a counter or a number at the end; supported:"),
        ("lost", "compares nothing"),
        ("lost == sent-processed", "put spaces around '-'"),
        ("0 < lost > 3", "a range goes one way"),
        ("0 < lost < 3 < 4", "at most a range"),
        ("abs lost == 0", "'abs' needs '('"),
        ("(lost == 0", "expected ')'"),
    ],
)
def test_refuses_with_reason(text, says):
    with pytest.raises(ExpectationError, match=None) as info:
        parse(text)
    assert says in str(info.value)


def test_counter_on_both_sides_and_verdict_text():
    [ok, bad, unknown] = evaluate_all(
        ["processed == sent", "pay.lost == 0", "ghost.lost == 0"],
        {"processed": 10, "sent": 10},
        {"pay": {"lost": 3}},
    )
    assert ok.passed and not bad.passed and not unknown.passed
    assert "FAIL" in str(bad) and "measured 3" in str(bad)
    assert "no value for ghost.lost" in str(unknown)


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_only_raises_expectation_error(text):
    try:
        parse(text)
    except ExpectationError:
        pass


@pytest.mark.parametrize(
    "text,passed",
    [
        ("lost == sent - processed", True),
        ("lost == sent - processed - 1", False),
        ("100 <= throughput <= 300", True),
        ("300 >= throughput >= 250", False),
        ("a.processed > b.processed", True),
        ("abs(a.processed - b.processed) <= 2", False),
        ("abs(b.processed - a.processed) <= 3", True),
        ("a->b.lost * 2 + 1 == 5", True),
        ("-lost < 0", True),
        ("(sent - lost) / sent == 0.9", True),
        ("lost / a->b.delivered == 0", False),
    ],
)
def test_arithmetic_and_ranges(text, passed):
    totals = {"lost": 10, "sent": 100, "processed": 90, "throughput": 200}
    scoped = {"a": {"processed": 50}, "b": {"processed": 47}, "a->b": {"lost": 2, "delivered": 0}}
    (verdict,) = evaluate_all([text], totals, scoped)
    assert verdict.passed is passed, str(verdict)


def test_counter_versus_counter_shows_both_values_and_a_range_its_middle():
    scoped = {"a": {"processed": 5}, "b": {"processed": 7}}
    (both,) = evaluate_all(["a.processed > b.processed"], {}, scoped)
    assert not both.passed and "a.processed = 5, b.processed = 7" in str(both)
    assert (both.measured, both.compared_to) == (5, 7)
    (rng,) = evaluate_all(["100 <= throughput <= 300"], {"throughput": 350}, {})
    assert not rng.passed and rng.measured == 350 and "measured 350" in str(rng)
    (zero,) = evaluate_all(["lost / sent == 0"], {"lost": 1, "sent": 0}, {})
    assert not zero.passed and "division by zero" in str(zero)
