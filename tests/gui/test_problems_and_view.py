"""The problems panel follows edits and points at what it concerns; the view zooms, pans and fits."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from engines.topology.vocabulary import NodeKind, Transport
from labgui.document import commands
from tests.gui.conftest import drag, drop_from_palette, handle_of

pytestmark = pytest.mark.gui


def test_problems_are_live_and_clicking_one_marks_its_node(window, qtbot):
    drop_from_palette(window, NodeKind.CLIENT, (0, 0))
    qtbot.waitUntil(lambda: any("client has no target" in p.message for p in window.problems.problems()))
    assert "✖ 1 error" in window.problem_label.text()
    item = window.scene.node_item("client")
    assert item.problems and "client has no target" in item.toolTip()
    drop_from_palette(window, NodeKind.SERVICE, (300, 0))
    drag(window, handle_of(window, "client"), window.scene.node_item("service").pos())
    qtbot.waitUntil(lambda: window.problems.problems() == [])
    assert window.problem_label.text() == "✔ ready to run" and not item.problems
    # make the link invalid from the inspector: an amqp client needs a broker
    window.scene.select(["client"])
    qtbot.waitUntil(lambda: window.inspector.target == ("node", "client"))
    combo = window.inspector.editors["transport"].widget
    combo.setCurrentIndex(combo.findData(Transport.AMQP))
    qtbot.waitUntil(lambda: bool(window.problems.problems()))
    row = next(i for i, p in enumerate(window.problems.problems()) if p.link == "client->service")
    window.scene.select([])
    window.problems.choose(row)
    link = window.scene.link_item("client->service")
    assert window.scene.selected_links() == ["client->service"] and link.marked and link.has_error
    assert "needs a broker" in window.statusBar().currentMessage()
    window.scene.select(["service"])  # choosing something else clears the mark
    assert not link.marked


def test_a_problem_about_the_scenario_selects_the_topology(window, opened, qtbot):
    opened("12")
    commands.push(window.doc, commands.RemoveCommand(window.doc, ["rabbit"], []))
    qtbot.waitUntil(lambda: any("no node 'rabbit'" in p.message for p in window.problems.problems()))
    row = next(i for i, p in enumerate(window.problems.problems()) if "no node 'rabbit'" in p.message)
    window.problems.choose(row)
    qtbot.waitUntil(lambda: window.inspector.target == ("topology", ""))


def wheel(window, steps: int) -> None:
    viewport = window.view.viewport()
    centre = QPointF(viewport.rect().center())
    event = QWheelEvent(centre, QPointF(viewport.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, event)


def test_wheel_zooms_and_fit_shows_everything(window, opened):
    opened("09")
    window.editor_actions.zoom_reset.trigger()
    wheel(window, 2)
    assert window.view.zoom == pytest.approx(1.15 ** 2)
    assert window.zoom_label.text() == "132 %"
    wheel(window, -30)
    assert window.view.zoom == pytest.approx(0.2)  # clamped
    window.editor_actions.fit.trigger()
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    for item in window.scene.nodes.values():
        assert visible.contains(item.sceneBoundingRect())


def test_middle_button_pans(window, opened):
    opened("09")
    window.editor_actions.zoom_reset.trigger()
    before = window.view.mapToScene(window.view.viewport().rect().center())
    drag(window, QPointF(400, 300), QPointF(200, 300), button=Qt.MouseButton.MiddleButton, on_screen=True)
    after = window.view.mapToScene(window.view.viewport().rect().center())
    assert after.x() - before.x() == pytest.approx(200, abs=40)
    assert window.doc.undo_stack.count() == 0  # panning edits nothing


def test_snap_to_grid_can_be_turned_off(window):
    drop_from_palette(window, NodeKind.CLIENT, (0, 0))
    window.editor_actions.snap.setChecked(False)
    drag(window, QPointF(0, 0), QPointF(33, 17))
    assert window.doc.topology.node("client").position == (33.0, 17.0)


def test_locking_for_a_run_stops_every_edit(window, opened):
    opened("12")
    window.set_editing_locked(True)
    assert window.view.locked_text and not window.palette_panel.isEnabled()
    assert not window.editor_actions.delete.isEnabled() and not window.undo_action.isEnabled()
    before = [n.position for n in window.doc.topology.nodes]
    drag(window, window.scene.node_item("payments").pos(), QPointF(560, 300))
    assert [n.position for n in window.doc.topology.nodes] == before
    with pytest.raises(commands.EditRefused, match="running"):
        commands.push(window.doc, commands.RemoveCommand(window.doc, ["rabbit"], []))
    window.set_editing_locked(False)
    assert window.palette_panel.isEnabled() and not window.view.locked_text
