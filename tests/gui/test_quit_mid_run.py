"""Ctrl+Q mid-run asks (issue 16): stop in order and keep the report, kill now, or stay."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from labgui.app.mainwindow import MainWindow
from tests.gui.runs import node, open_example, wait_phase


def endless(data):
    node(data, "events")["count"] = 10_000_000
    data["scenario"] = []


@pytest.mark.timeout(120)
def test_quitting_mid_run_asks_and_stops_in_order_with_its_report(qtbot, answer, tmp_path):
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    open_example(window, tmp_path, "06", endless)
    rm = window.run_mode
    rm.run_action.trigger()
    wait_phase(qtbot, window, ("running",), 60)
    session = rm.session
    gone: list[bool] = []
    window.destroyed.connect(lambda *_: gone.append(True))
    answer("ask_quit_during_run", "cancel")
    window.editor_actions.quit.trigger()  # Ctrl+Q
    assert window.isVisible() and rm.active and answer.names() == ["ask_quit_during_run"]
    answer("ask_quit_during_run", "stop")
    window.editor_actions.quit.trigger()
    assert window.isVisible(), "the window waits for the orderly stop"
    qtbot.waitUntil(lambda: session.done.is_set(), timeout=90000)
    qtbot.waitUntil(lambda: bool(gone), timeout=10000)  # it closed (and was deleted) by itself
    assert session.summary is not None and session.report is not None and session.report.exists()
    assert session.closed.is_set()
    events = [e["event"] for e in session.sup.events.since(0)]
    assert "interrupted" in events and "run-ended" in events
    QApplication.processEvents()
