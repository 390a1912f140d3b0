"""Every kind of edit, made as a user makes it, undoes step by step back to the file's bytes, and redoes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from engines.topology import topofile
from engines.topology.vocabulary import NodeKind
from tests.gui.conftest import click, drag, drop_from_palette, handle_of

pytestmark = pytest.mark.gui


def scene_matches_document(window) -> None:
    topo = window.doc.topology
    assert list(window.scene.nodes) and set(window.scene.nodes) == {n.name for n in topo.nodes}
    assert set(window.scene.links) == {lk.key for lk in topo.links}
    for node in topo.nodes:
        assert window.scene.node_item(node.name).pos() == QPointF(*node.position)
    for link in topo.links:
        item = window.scene.link_item(link.key)
        assert (item.source.name, item.target.name) == (link.source, link.target)


def test_every_kind_of_edit_undoes_to_the_original_bytes_and_redoes(window, qtbot, opened):
    path = opened("12")
    original = path.read_text()
    assert topofile.dumps(window.doc.topology) == original
    snapshots = [original]
    labels = []

    def edited(label: str) -> None:
        QApplication.processEvents()
        text = topofile.dumps(window.doc.topology)
        assert text != snapshots[-1], f"{label} changed nothing"
        snapshots.append(text)
        labels.append(label)
        assert window.doc.undo_stack.count() == len(labels), f"{label} was not exactly one undo step"

    def inspect(nodes=(), links=()) -> None:
        window.scene.select(list(nodes), list(links))
        expected = ("node", nodes[0]) if nodes else ("link", links[0]) if links else ("topology", "")
        qtbot.waitUntil(lambda: window.inspector.target == expected and bool(window.inspector.editors))

    drop_from_palette(window, NodeKind.SERVICE, (560, 300))
    edited("add")
    drag(window, window.scene.node_item("service").pos(), QPointF(560, 260))
    edited("move")
    drag(window, handle_of(window, "rabbit"), window.scene.node_item("service").pos())
    edited("connect")
    inspect(["payments"])
    window.inspector.editors["processing_ms"].widget.setValue(5)
    edited("change property")
    inspect(["checkout"])
    name = window.inspector.editors["name"].widget
    name.selectAll()
    qtbot.keyClicks(name, "orders")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    edited("rename")
    inspect(links=["rabbit->payments"])
    qtbot.mouseClick(window.inspector.editors["durable"].widget, Qt.MouseButton.LeftButton)
    edited("change link property")
    inspect()
    window.inspector.editors["duration_s"].widget.setValue(20)
    edited("change topology")
    inspect(["service"])
    qtbot.mouseClick(window.inspector.editors["crash"].enabled, Qt.MouseButton.LeftButton)
    edited("change nested crash")
    window.scene.select(["rabbit", "payments"])
    window.editor_actions.copy.trigger()
    window.editor_actions.paste.trigger()
    edited("paste")
    window.scene.select(["service"])
    window.editor_actions.duplicate.trigger()
    edited("duplicate")
    window.editor_actions.auto_layout.trigger()
    edited("auto-layout")
    window.scene.select(["orders"])
    window.view.setFocus()
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Down)
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Down)
    edited("nudge")
    click(window, window.scene.link_item("orders->rabbit").line().center())
    window.editor_actions.delete.trigger()
    edited("disconnect")
    window.scene.select(["payments"])
    window.editor_actions.delete.trigger()
    edited("delete with links")
    window.scene.select(["service-2"])
    window.editor_actions.cut.trigger()
    edited("cut")
    final = snapshots[-1]
    scene_matches_document(window)

    for expected in reversed(snapshots[:-1]):
        window.undo_action.trigger()
        QApplication.processEvents()
        assert topofile.dumps(window.doc.topology) == expected
        scene_matches_document(window)
    assert not window.doc.undo_stack.canUndo()
    assert topofile.dumps(window.doc.topology) == original
    assert not window.doc.is_modified() and "*" not in window.title_text()

    for expected in snapshots[1:]:
        window.redo_action.trigger()
        assert topofile.dumps(window.doc.topology) == expected
    scene_matches_document(window)
    assert topofile.dumps(window.doc.topology) == final
    assert window.doc.is_modified() and window.title_text().startswith(f"{path.name}*")

    while window.doc.undo_stack.canUndo():
        window.undo_action.trigger()
    assert topofile.dumps(window.doc.topology) == original
