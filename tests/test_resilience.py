"""The bulkhead and the circuit breaker of a service's calls (engines.nodes.resilience), in isolation.

The behaviour against real processes is tested by example 19 (topologies/19-chain-http-breaker)."""

from __future__ import annotations

import time

from engines.nodes.resilience import CLOSED, HALF_OPEN, OPEN, Breaker, Bulkhead


def test_bulkhead_refuses_the_call_past_its_limit_at_once():
    bulkhead = Bulkhead(2)
    assert bulkhead.enter() and bulkhead.enter()
    assert not bulkhead.enter()
    bulkhead.leave()
    assert bulkhead.enter()
    assert bulkhead.peak == 2
    unlimited = Bulkhead(0)
    assert all(unlimited.enter() for _ in range(1000))


def test_breaker_opens_fails_fast_half_opens_and_closes():
    changes: list[tuple[str, str]] = []
    breaker = Breaker(3, 50, lambda old, new: changes.append((old, new)))
    for _ in range(2):
        assert breaker.allow()
        breaker.failure()
    assert breaker.state == CLOSED  # two failures: not yet
    breaker.failure()
    assert breaker.state == OPEN and not breaker.allow()  # short-circuited
    time.sleep(0.08)
    assert breaker.allow() and breaker.state == HALF_OPEN  # one trial call
    assert not breaker.allow()  # and only one
    breaker.success()
    assert breaker.state == CLOSED and breaker.allow()
    assert changes == [(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, CLOSED)]


def test_a_failed_trial_opens_the_breaker_again():
    breaker = Breaker(1, 20)
    breaker.failure()
    time.sleep(0.04)
    assert breaker.allow()
    breaker.failure()
    assert breaker.state == OPEN and not breaker.allow()


def test_a_breaker_with_no_threshold_never_opens():
    breaker = Breaker(0, 10)
    for _ in range(100):
        breaker.failure()
    assert breaker.allow() and breaker.state == CLOSED
