"""The scenario timeline editor (issue 16): add, drag, edit, delete steps, each one undo step."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from engines.topology.model import Action


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
