"""The scenario timeline editor (issue 16): add, drag, edit, delete steps, each one undo step."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from engines.topology.model import Action
from tests.gui.runs import assert_run_left_nothing, open_example, wait_phase


def _mouse(widget, kind, pos: QPointF) -> None:
    button = Qt.MouseButton.LeftButton
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    QApplication.sendEvent(widget, QMouseEvent(kind, pos, widget.mapToGlobal(pos.toPoint()).toPointF(),
                                               button, buttons, Qt.KeyboardModifier.NoModifier))


def test_steps_are_added_dragged_edited_and_deleted_with_undo(window, opened, qtbot):
    opened("12")  # kill rabbit at 3 s, restart at 6 s
    tl = window.timeline
    tl.dock.show()
    tl.dock.raise_()
    tl.resize(900, 120)
    qtbot.waitExposed(tl)
    assert [t for t, _ in tl.tracks()] == ["checkout", "rabbit", "payments", "checkout->rabbit",
                                           "rabbit->payments"]
    tl.add_step(Action.CUT, "rabbit->payments", 8.0)
    assert window.doc.topology.scenario[-1].action is Action.CUT
    assert window.doc.undo_stack.count() == 1
    # drag the kill from 3 s to about 5 s: one undo step
    kill = tl.block_rect(0).center()
    target = QPointF(tl.x_of(5.0) + (kill.x() - tl.x_of(3.0)), kill.y())
    _mouse(tl, QEvent.Type.MouseButtonPress, kill)
    _mouse(tl, QEvent.Type.MouseMove, (kill + target) / 2)
    _mouse(tl, QEvent.Type.MouseMove, target)
    _mouse(tl, QEvent.Type.MouseButtonRelease, target)
    assert abs(window.doc.topology.scenario[0].at_s - 5.0) <= 0.3
    tl.set_step(2, at_s=9.0)
    assert window.doc.topology.scenario[2].at_s == 9.0
    # delete the selected block with the Delete key
    tl.selected = 1
    qtbot.keyClick(tl, Qt.Key.Key_Delete)
    assert [s.action for s in window.doc.topology.scenario] == [Action.KILL, Action.CUT]
    for _ in range(4):
        window.undo_action.trigger()
    assert [(s.action, s.at_s) for s in window.doc.topology.scenario] == [(Action.KILL, 3.0), (Action.RESTART, 6.0)]
    tl.set_playhead(4.0)
    assert tl.playhead == 4.0


def _shown(window, qtbot):
    tl = window.timeline
    tl.dock.show()
    tl.dock.raise_()
    tl.resize(900, 120)
    qtbot.waitExposed(tl)
    return tl


def test_a_count_step_is_placed_by_the_rates_labelled_with_its_count_and_dragged_as_a_count(
        window, opened, qtbot):
    opened("12")  # checkout sends 200/s, 2000 in all
    tl = _shown(window, qtbot)
    tl.set_step(0, at_s=None, after_messages=600)  # kill rabbit after 600 messages: about 3 s
    step = window.doc.topology.scenario[0]
    assert tl.step_time(step) == 3.0
    assert abs(tl.block_rect(0).x() - tl.x_of(3.0)) < 1
    assert tl.label(step) == "kill @600" and "after 600 messages sent (about 3.0 s" in tl.describe(step)
    # drawn distinctly from a timed step: pale with a dashed edge (sampled from the widget)
    image = tl.grab().toImage()
    inside = tl.block_rect(0).adjusted(3, 3, -3, -3)
    timed = tl.block_rect(1).center()
    assert image.pixelColor(timed.toPoint()).lightness() < image.pixelColor(
        inside.topLeft().toPoint()).lightness()
    # a drag to about 5 s keeps it a count step: 1000 messages
    start = tl.block_rect(0).center()
    start.setX(tl.block_rect(0).left() + 4)  # its own left end: a wide label may reach the next block
    end = QPointF(start.x() + tl.x_of(5.0) - tl.x_of(3.0), start.y())
    _mouse(tl, QEvent.Type.MouseButtonPress, start)
    _mouse(tl, QEvent.Type.MouseMove, end)
    _mouse(tl, QEvent.Type.MouseButtonRelease, end)
    moved = window.doc.topology.scenario[0]
    assert moved.at_s is None and abs(moved.after_messages - 1000) <= 20
    window.undo_action.trigger()
    assert window.doc.topology.scenario[0].after_messages == 600


def test_a_client_at_full_speed_gives_no_estimate(window, opened, qtbot):
    opened("12")
    from labgui.document import commands
    commands.change_node(window.doc, "checkout", "rate", 0.0)
    tl = _shown(window, qtbot)
    tl.set_step(0, at_s=None, after_messages=600)
    assert tl.step_time(window.doc.topology.scenario[0]) is None
    assert tl.block_rect(0).right() == tl.width() - 10
    assert "no estimate" in tl.describe(window.doc.topology.scenario[0])


def test_latency_and_loss_of_link_faults_are_edited_in_the_timeline(window, opened, qtbot):
    opened("12")
    tl = _shown(window, qtbot)
    tl.add_step(Action.DELAY, "rabbit->payments", 8.0)
    tl.add_step(Action.LOSSY, "checkout->rabbit", 9.0)
    assert tl.label(window.doc.topology.scenario[2]) == "delay +200 ms"
    # a double-click on the delay block opens its fields
    centre = tl.block_rect(2).center()
    QApplication.sendEvent(tl, QMouseEvent(QEvent.Type.MouseButtonDblClick, centre,
                                           tl.mapToGlobal(centre.toPoint()).toPointF(),
                                           Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton,
                                           Qt.KeyboardModifier.NoModifier))
    editor = tl.editor
    assert editor is not None and editor.isVisible() and editor.latency is not None
    editor.latency.setValue(350)
    editor.jitter.setValue(20)
    qtbot.mouseClick(editor.apply_button, Qt.MouseButton.LeftButton)
    delay = window.doc.topology.scenario[2]
    assert (delay.latency_ms, delay.jitter_ms) == (350, 20) and not editor.isVisible()
    assert window.doc.undo_stack.undoText() == "Change topology scenario"
    editor = tl.edit_block(3)
    assert editor.latency is None and editor.loss.value() == 10
    editor.loss.setValue(25)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert window.doc.topology.scenario[3].loss == 0.25
    assert tl.label(window.doc.topology.scenario[3]) == "lossy 25 %"
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert window.doc.topology.scenario[2].latency_ms == 200 and window.doc.topology.scenario[3].loss == 0.1
    # Cancel changes nothing
    editor = tl.edit_block(2)
    editor.latency.setValue(999)
    editor.close()
    assert window.doc.topology.scenario[2].latency_ms == 200


@pytest.mark.timeout(120)
def test_during_a_run_the_timeline_spans_the_window_under_the_plots(window, qtbot, tmp_path):
    """Seen under Xvfb: the run's four plots split the bottom area and left the scenario timeline
    (shown where the hidden Problems dock was) 105 px wide, its tracks cut."""
    open_example(window, tmp_path, "02")
    tl = window.timeline
    tl.dock.hide()
    window.run_mode.run_action.trigger()
    qtbot.waitUntil(lambda: tl.playhead is not None, timeout=60000)
    canvas_alone = window.view.height()  # the timeline not shown: the run's own layout
    window.run_mode.stop_action.trigger()
    wait_phase(qtbot, window, ("ended",), 60)
    window.run_mode.edit_action.trigger()
    tl.dock.show()
    tl.dock.raise_()
    window.run_mode.run_action.trigger()
    qtbot.waitUntil(lambda: tl.playhead is not None, timeout=60000)
    qtbot.waitUntil(lambda: tl.dock.width() > window.width() * 0.6, timeout=60000)
    assert tl.dock.isVisible() and tl.visibleRegion().boundingRect().width() > window.width() * 0.6
    assert window.view.height() >= canvas_alone - 130  # the canvas keeps most of its room
    window.run_mode.stop_action.trigger()
    wait_phase(qtbot, window, ("ended",), 60)
    assert_run_left_nothing(window)
