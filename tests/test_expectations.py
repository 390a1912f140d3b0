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
        ("lost == 0 and x", "not 'value OP value'"),
        ("__import__('os') == 1", "cannot read"),
        ("1 == 1", "compares two numbers"),
        ("", "not 'value OP value'"),
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
