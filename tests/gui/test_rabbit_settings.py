"""RabbitMQ queue and consumer settings in the inspector: shown, edited, validated, undoable."""

from __future__ import annotations

from PySide6.QtCore import Qt


def test_dead_letter_and_reject_settings_are_edited_in_the_inspector(window, qtbot, opened):
    opened("28")
    window.scene.select(links=["rabbit->packer"])
    qtbot.waitUntil(lambda: window.inspector.target == ("link", "rabbit->packer"))
    editors = window.inspector.editors
    assert editors["dead_letter_exchange"].widget.text() == '""'  # the default exchange
    assert editors["dead_letter_routing_key"].widget.text() == "orders-dead"
    for name in ("delivery_limit", "message_ttl_ms", "max_length", "overflow", "exclusive"):
        assert name in editors
    # a dead-letter queue nobody consumes is a warning next to the link
    key = editors["dead_letter_routing_key"].widget
    key.selectAll()
    qtbot.keyClicks(key, "nowhere")
    qtbot.keyClick(key, Qt.Key.Key_Return)
    link = window.doc.topology.link("rabbit->packer")
    assert link.dead_letter_routing_key == "nowhere"
    qtbot.waitUntil(lambda: any("pile up in queue 'nowhere'" in p.message for p in window.doc.problems))
    window.doc.undo_stack.undo()
    assert window.doc.topology.link("rabbit->packer").dead_letter_routing_key == "orders-dead"
    # a consumer with automatic acks cannot reject: an error, before any run
    window.scene.select(["packer"])
    qtbot.waitUntil(lambda: window.inspector.target == ("node", "packer"))
    combo = window.inspector.editors["ack"].widget
    combo.setCurrentIndex(combo.findText("auto"))
    qtbot.waitUntil(lambda: any("cannot reject" in p.message for p in window.doc.problems))
    assert "prefetch" not in window.inspector._fields[:8]  # it no longer matters here
