"""Node logs (issue 16): on the run clock like the event log, plots and report; wrapped; and
they say when a client resends."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from PySide6.QtWidgets import QPlainTextEdit

from labgui.run.log_clock import to_run_clock
from tests.gui.runs import assert_run_left_nothing, open_example, wait_phase

STAMP = re.compile(r"^\s*(-?\d+\.\d{3}) s  ")


def test_stamps_are_rewritten_as_run_clock_seconds() -> None:
    origin = datetime(2026, 1, 2, 23, 59, 59, 500000).timestamp()
    text = ("--- life 1 starting at 23:59:58\n"
            "23:59:58.250 INFO pricing[12]: ready\n"
            "00:00:01.750 WARNING pricing-client[13]: Lazy Pirate: no reply\n"
            "Traceback (most recent call last):\n"
            f"{datetime.fromtimestamp(origin + 3, timezone.utc).isoformat(sep=' ')} [info] <0.1.0> started\n")
    lines = to_run_clock(text, origin).split("\n")
    assert lines[0] == "--- life 1 starting at -2 s on the run clock (23:59:58)"
    assert lines[1] == "  -1.250 s  INFO pricing[12]: ready"
    assert lines[2] == "   2.250 s  WARNING pricing-client[13]: Lazy Pirate: no reply"  # past midnight
    assert lines[3] == "Traceback (most recent call last):"
    assert lines[4] == "   3.000 s  [info] <0.1.0> started"  # RabbitMQ's ISO stamps, any zone


@pytest.mark.timeout(180)
def test_the_lazy_pirate_log_is_on_the_event_logs_clock(window, qtbot, tmp_path):
    """Example 2: the service is killed at 1.5 s; the client's resend lines come after it, on the
    same clock as the event log's kill line (they used to read 14:03:07.412)."""
    open_example(window, tmp_path, "02")
    rm = window.run_mode
    rm.run_action.trigger()
    wait_phase(qtbot, window, ("ended",), 150)
    panel = rm.dashboard.node_log
    panel.show_node("pricing-client")
    assert panel.text.lineWrapMode() is QPlainTextEdit.LineWrapMode.WidgetWidth
    lines = panel.text.toPlainText().splitlines()
    resends = [line for line in lines if "Lazy Pirate: no reply" in line]
    assert len(resends) == rm.session.summary["nodes"]["pricing-client"]["retries"] > 0
    kill = next(line for line in rm.dashboard.events.lines() if "kill pricing" in line)
    kill_t = float(kill.split()[0])
    times = [float(STAMP.match(line).group(1)) for line in resends]
    # the kill's resends follow its line at once (a loaded machine may add a slow reply's resend
    # before it: that one is on the same clock too, so the order still holds)
    assert any(kill_t <= t < kill_t + 10 for t in times), (kill_t, times)
    assert all(0 <= t < kill_t + 60 for t in times), (kill_t, times)
    assert times == sorted(times)
    assert_run_left_nothing(window, timeout_s=90)
