"""Pirate queues in the editor: drawn as queues, their settings in the inspector, undoable."""

from __future__ import annotations

from labgui.canvas import theme


def test_a_pirate_queue_is_drawn_as_a_queue_and_its_settings_are_edited(window, qtbot, opened):
    opened("42")
    item = window.scene.nodes["queue"]
    assert item.glyph == theme.PARANOID_PIRATE
    assert item.subtitle == "Paranoid Pirate · 500 ms × 3"
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
