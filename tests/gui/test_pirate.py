"""Pirate queues in the editor: drawn as queues, their settings in the inspector, undoable."""

from __future__ import annotations

import pytest

from labgui.canvas import theme
from tests.gui.runs import (
    assert_run_left_nothing,
    menu_action,
    node,
    open_example,
    wait_phase,
    wait_state,
)


def test_a_pirate_queue_is_drawn_as_a_queue_and_its_settings_are_edited(window, qtbot, opened):
    opened("42")
    item = window.scene.nodes["queue"]
    assert item.glyph == theme.PARANOID_PIRATE
    assert item.subtitle == "Paranoid Pirate · 1000 ms × 3"
    assert window.scene.nodes["worker-a"].subtitle.startswith("Pirate worker")
    window.scene.select(["queue"])
    qtbot.waitUntil(lambda: window.inspector.target == ("node", "queue"))
    first = window.inspector._fields[:7]
    for name in ("pirate", "pirate_heartbeat_ms", "pirate_liveness", "pirate_interval_init_ms",
                 "pirate_interval_max_ms"):
        assert name in first, first
    assert "idempotent" not in first  # a queue commits nothing
    combo = window.inspector.editors["pirate"].widget
    combo.setCurrentIndex(combo.findText("simple"))
    qtbot.waitUntil(lambda: window.scene.nodes["queue"].glyph == theme.SIMPLE_PIRATE)
    assert window.doc.topology.node("queue").pirate.value == "simple"
    assert window.scene.nodes["queue"].subtitle == "Simple Pirate · 3 workers"
    window.doc.undo_stack.undo()
    assert window.doc.topology.node("queue").pirate.value == "paranoid"
    qtbot.waitUntil(lambda: window.scene.nodes["queue"].glyph == theme.PARANOID_PIRATE)


def test_a_queue_fed_by_a_notification_client_is_refused_next_to_it(window, qtbot, opened):
    opened("41")
    window.scene.select(["shop"])
    qtbot.waitUntil(lambda: window.inspector.target == ("node", "shop"))
    combo = window.inspector.editors["style"].widget
    combo.setCurrentIndex(combo.findText("notification"))
    qtbot.waitUntil(lambda: any("Pirate queue 'queue' takes zmq requests" in p.message
                                for p in window.doc.problems_for_node("queue")))


@pytest.mark.timeout(180)
def test_a_pirate_queue_runs_in_run_mode_and_its_worker_link_can_be_cut(window, qtbot, tmp_path):
    """Example 41, shorter, with links through fault proxies (the default): the workers reach
    the queue's backend through the proxy of their link, the run counts as the CLI does."""
    def shorter(data):  # patient clients: on a loaded machine a request may wait seconds
        for name in ("shop", "till"):
            node(data, name).update(count=100, timeout_ms=5000, retries=10)
        data["scenario"] = []
        data["expectations"] = ["sent == 200", "acknowledged == sent", "lost == 0",
                                "queue.pirate_registrations == 3"]
    open_example(window, tmp_path, "41", shorter)
    rm = window.run_mode
    assert rm.link_faults_action.isChecked()
    rm.run_action.trigger()
    wait_state(qtbot, window, "shop", ("ready",), 90)  # clients start last: the run is on
    cut = menu_action(window, window.scene.link_item("queue->worker-a"), "cut")
    assert cut.isEnabled()  # the worker's connection to the queue runs through a proxy
    wait_phase(qtbot, window, ("ended",), 120)
    summary = rm.session.summary
    assert all(v["passed"] for v in summary["expectations"]), summary["expectations"]
    assert window.scene.node_item("queue").glyph == theme.SIMPLE_PIRATE
    assert_run_left_nothing(window)
