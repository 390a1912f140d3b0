"""Run mode without a broker: Run and Stop, the live canvas, faults by hand, refusals, the result."""

from __future__ import annotations

import argparse

import pyqtgraph as pg
import pytest

from engines.brokers import INSTALL_HINT
from engines.cli import run as cli_run
from labgui.canvas.node_item import STATE_COLOURS
from tests.gui.runs import (
    assert_run_left_nothing,
    menu_action,
    node,
    open_example,
    wait_phase,
    wait_state,
)

pytestmark = pytest.mark.gui


def _push_pull(data):
    """Example 06, shorter: 4 s of PUSH at 2000/s; worker-b is killed at 1 s by the scenario."""
    node(data, "events")["count"] = 8000
    data["scenario"] = [{"action": "kill", "target": "worker-b", "at_s": 1}]
    data["expectations"] = ["sent == 8000", "duplicates_delivered == 0"]


@pytest.mark.timeout(150)
def test_a_brokerless_run_shows_states_rates_and_locks_editing(window, qtbot, tmp_path, monkeypatch):
    open_example(window, tmp_path, "06", _push_pull)
    rm, scene = window.run_mode, window.scene
    assert rm.run_action.shortcut().toString() == "F5" and rm.stop_action.shortcut().toString() == "Shift+F5"
    assert rm.run_action in window.toolbar.actions() and rm.stop_action in window.toolbar.actions()
    rm.link_faults_action.setChecked(True)  # every link through a fault proxy, to cut one by hand
    rm.run_action.trigger()
    # one timer drives every redraw, at most 20 times a second, without antialiasing on plots
    assert rm.timer.isActive() and rm.timer.interval() >= 50
    assert pg.getConfigOption("antialias") is False

    # editing is locked while the run is on, and the canvas says so
    assert window.doc.locked and not window.palette_panel.isEnabled() and "locked" in window.view.locked_text
    assert not rm.run_action.isEnabled() and rm.stop_action.isEnabled()
    assert not window.editor_actions.delete.isEnabled() and not window.editor_actions.open.isEnabled()

    # services come up first, then the client; states show as rings
    wait_state(qtbot, window, "events", ("ready",), 60)  # nodes start at nice +19 (issue 16)
    assert scene.node_item("worker-a").state == "ready"
    # traffic shows on both links: a rate on the label, a thicker line
    link = scene.link_item("events->worker-a")
    qtbot.waitUntil(lambda: link.thickness > 4 and link.rate.endswith("/s") and link.rate != "0/s", timeout=10000)
    assert link.label_text().startswith("zmq · ")
    assert "processed" in scene.node_item("worker-a").detail

    # the scenario kills worker-b at 1 s: red ring, KILLED badge, an event on the timeline
    wait_state(qtbot, window, "worker-b", ("killed",), 10)
    worker_b = scene.node_item("worker-b")
    qtbot.waitUntil(lambda: worker_b.badge == "KILLED", timeout=3000)
    assert STATE_COLOURS["killed"].name() == "#e03131"
    # faults by hand from the context menu: pause and resume worker-a
    pause = menu_action(window, scene.node_item("worker-a"), "pause")
    assert pause.isEnabled() and not menu_action(window, worker_b, "kill").isEnabled()
    assert menu_action(window, worker_b, "start").isEnabled()
    pause.trigger()
    wait_state(qtbot, window, "worker-a", ("paused",), 5)
    qtbot.waitUntil(lambda: scene.node_item("worker-a").badge == "PAUSED", timeout=3000)
    menu_action(window, scene.node_item("worker-a"), "resume").trigger()
    wait_state(qtbot, window, "worker-a", ("ready",), 5)
    # each node's own log, on demand
    menu_action(window, scene.node_item("worker-a"), "log").trigger()
    assert rm.dashboard.docks["Node log"].isVisible()
    qtbot.waitUntil(lambda: "--- life 1 starting" in rm.dashboard.node_log.text.toPlainText(), timeout=3000)
    # link faults by hand, through the run's proxies: cut, then heal, then slow down
    cut = menu_action(window, link, "cut")
    assert cut.isEnabled() and not menu_action(window, link, "heal").isEnabled()
    cut.trigger()
    qtbot.waitUntil(lambda: link.rate.endswith("· cut") and link.stalled, timeout=3000)
    assert not menu_action(window, link, "cut").isEnabled()
    menu_action(window, link, "heal").trigger()
    qtbot.waitUntil(lambda: not link.rate.endswith("cut"), timeout=3000)
    menu_action(window, link, "delay-20").trigger()
    qtbot.waitUntil(lambda: link.rate.endswith("· +20 ms"), timeout=3000)

    # the client ends after its 4000 messages: the run ends on its own, editing comes back
    wait_phase(qtbot, window, ("ended",), 60)
    assert not window.doc.locked and window.palette_panel.isEnabled() and window.view.locked_text == ""
    assert rm.run_action.isEnabled() and not rm.stop_action.isEnabled()
    summary = rm.session.summary
    shown = rm.dashboard.counters.values()
    assert shown == {key: summary["total"][key] for key in shown}
    assert shown["sent"] == 8000
    lines = rm.dashboard.events.lines()
    assert any("kill worker-b  (scenario)" in line for line in lines)
    assert any("pause worker-a  (by hand)" in line for line in lines)
    assert any("resume worker-a  (by hand)" in line for line in lines)
    for expected in ("cut events->worker-a  (by hand)", "heal events->worker-a  (by hand)",
                     "delay events->worker-a  (by hand)   latency_ms=20"):
        assert any(expected in line for line in lines), expected
    verdicts = rm.dashboard.result.verdict_lines()
    assert len(verdicts) == 2 and all("PASS" in v for v in verdicts)
    # the fault periods went onto the plots: worker-b killed (open to the end), worker-a paused
    labels = {p.label for p in rm.sampler.periods()}
    assert {"worker-b killed", "worker-a paused", "events->worker-a cut", "events->worker-a delayed"} <= labels
    assert_run_left_nothing(window)
    # the run's HTML report (engines.report) is built in the background, then opens from the Result panel
    result = rm.dashboard.result
    qtbot.waitUntil(lambda: result.open_report.isEnabled(), timeout=30000)
    assert (rm.session.sup.run_dir / "report.html").exists()
    opened = []
    monkeypatch.setattr("labgui.run.result_panel.QDesktopServices.openUrl", lambda url: opened.append(url))
    result.open_report.click()
    assert opened and opened[0].toLocalFile().endswith("report.html")
    # no desktop launcher took it (openUrl said no): the report opens inside the app (issue 16)
    viewer = result.report_viewer
    assert viewer is not None and viewer.isVisible()
    assert rm.session.topology.name in viewer.toPlainText()
    viewer.close()

    # the first edit after the run gives the canvas back to editing
    window.scene.node_item("worker-a").setSelected(True)
    window.delete_selection()
    assert scene.node_item("events").state is None and scene.link_item("events->worker-b").rate is None


@pytest.mark.timeout(150)
def test_stop_ends_the_run_in_order_and_still_counts(window, qtbot, tmp_path):
    def endless(data):
        node(data, "events")["count"] = 10_000_000
        data["scenario"] = []
    open_example(window, tmp_path, "06", endless)
    rm = window.run_mode
    assert rm.link_faults_action.isChecked()  # by default every link can be faulted (issue 16)
    rm.link_faults_action.setChecked(False)  # turned off: links go direct, and the menu says why
    rm.run()
    wait_state(qtbot, window, "events", ("ready",), 60)  # nodes start at nice +19
    cut = menu_action(window, window.scene.link_item("events->worker-a"), "cut")
    assert not cut.isEnabled() and "Link faults by hand" in cut.toolTip()
    qtbot.waitUntil(lambda: (rm.dashboard.counters.values()["processed"] or 0) > 500, timeout=10000)
    rm.stop_action.trigger()
    assert rm.stop_action.text() == "Kill all now"  # a second Stop would not wait
    wait_phase(qtbot, window, ("ended",), 40)
    assert [e["event"] for e in rm.session.sup.events.since(0)].count("interrupted") == 1
    shown = rm.dashboard.counters.values()
    assert shown == {key: rm.session.summary["total"][key] for key in shown}
    assert_run_left_nothing(window)


def test_a_topology_with_errors_is_refused_with_its_problems(window, answer, tmp_path):
    def broken(data):
        node(data, "events")["transport"] = "http"
        node(data, "events")["style"] = "publish-subscribe"
    open_example(window, tmp_path, "06", broken)
    answer("show_error")
    assert window.run_mode.run() is False
    assert window.run_mode.session is None and not window.doc.locked
    (name, (_parent, title, text)), = answer.asked
    assert title == "Cannot run" and "publish-subscribe" in text and "error" in text
    assert window.problems_dock.isVisible()


@pytest.mark.timeout(30)
def test_a_brokered_topology_without_rabbitmq_is_refused_as_the_cli_does(window, qtbot, answer, tmp_path,
                                                                          monkeypatch, capsys):
    monkeypatch.setattr("engines.brokers.managed.rabbitmq_available", lambda: INSTALL_HINT)
    path = open_example(window, tmp_path, "12")
    answer("show_error")
    assert window.run_mode.run()
    wait_phase(qtbot, window, ("failed",), 20)
    (name, (_parent, title, text)), = answer.asked
    assert title == "Cannot run" and INSTALL_HINT in text
    assert not window.doc.locked
    assert window.run_mode.dashboard.result.headline.text().endswith(text)
    assert window.run_mode.dashboard.result.table.toPlainText() == text
    # the CLI, on the same file, says the same thing
    args = argparse.Namespace(file=str(path), duration=None, json=False, out=str(tmp_path / "cli-run"))
    assert cli_run.run(args) == 1
    assert capsys.readouterr().err.strip() == f"labgui run: {text}"
    assert_run_left_nothing(window)
