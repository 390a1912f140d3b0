"""Fault periods pair each fault with what ends it; unclosed ones run to the end."""

from engines.report.periods import fault_periods


def test_pairs_kill_with_restart_and_pause_with_resume():
    events = [
        {"t": 3.0, "action": "kill", "target": "rabbit"},
        {"t": 4.0, "action": "pause", "target": "svc"},
        {"t": 5.0, "action": "resume", "target": "svc"},
        {"t": 8.0, "action": "restart", "target": "rabbit"},
        {"t": 9.0, "action": "cut", "target": "a->b"},
    ]
    periods = fault_periods(events, run_end=12.0)
    spans = [(p.target, p.action, p.start, p.end, p.open_ended) for p in periods]
    assert spans == [
        ("rabbit", "kill", 3.0, 8.0, False),
        ("svc", "pause", 4.0, 5.0, False),
        ("a->b", "cut", 9.0, 12.0, True),
    ]
    assert periods[0].label == "rabbit killed"


def test_restart_without_a_fault_opens_nothing():
    assert fault_periods([{"t": 1, "action": "restart", "target": "x"}], 5) == []
