"""A lesson from the Lessons menu: predict, run the real system, read the ledger beside the prediction,
then the comparison step sets the two runs side by side (lesson 03, brokerless: a few seconds a run)."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox

from engines.lessons import catalog
from tests.gui.runs import assert_run_left_nothing, wait_phase

pytestmark = pytest.mark.gui


def _lessons_menu(window) -> QMenu:
    top = next(a for a in window.menuBar().actions() if a.text() == "&Lessons")
    menu = top.menu()
    assert isinstance(menu, QMenu)
    return menu


def _ledger_answers(panel) -> list[tuple[str, str]]:
    """(you, ledger) pairs as the results view shows them."""
    return re.findall(r"you: (\S+)\s+·\s+ledger: ([^\s✔✘]+)", panel.results.toPlainText())


def test_the_lessons_menu_lists_the_six_lessons_in_order_and_the_welcome_too(window):
    menu = _lessons_menu(window)
    entries = [a.text() for a in menu.actions() if a.objectName().startswith("lesson-")]
    assert len(entries) == len(catalog.lessons()) == 6
    assert [e.split(".", 1)[0] for e in entries] == [f"&{i}" for i in range(1, 7)]
    assert "Interaction styles" in entries[0] and "idempotent consumer" in entries[5]
    welcome = window.guide.panel.welcome.toHtml()
    assert welcome.count("lesson:") == 6 and welcome.index("lesson:") < welcome.index("example:")
    keys = {a.text(): a.shortcut().toString() for a in menu.actions()}
    assert keys["Ne&xt lesson step"] == "Ctrl+Alt+Right" and keys["Pre&vious lesson step"] == "Ctrl+Alt+Left"


@pytest.mark.timeout(300)
def test_a_lesson_asks_runs_answers_and_compares(window, qtbot, tmp_path):
    window.run_mode.run_root = tmp_path / "runs"
    window.run_mode.link_faults_action.setChecked(False)  # direct links: a plain brokerless run
    action = next(a for a in _lessons_menu(window).actions()
                  if a.objectName() == "lesson-03-brokerless-messaging")
    action.trigger()
    lesson, panel, doc = window.lessons, window.lessons.panel, window.doc
    assert lesson.dock.isVisible() and "Brokerless" in panel.title.text()
    assert panel.step_label.text().startswith("Step 1 of 4") and doc.topology.has_node("latecomer")
    assert "untitled copy" in window.files.display_name  # the lesson's topology is never saved over
    assert panel.questions_box.isVisible() and set(panel.editors) == {"latecomer-got", "publisher-told"}

    # Next (by mouse): another file, opened without asking about the lesson's own edits (even once
    # autosaved), then the PUSH/PULL variant applied to the canvas as one undoable edit
    assert doc.is_modified() and window.files.autosave() is not None
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert panel.step_label.text().startswith("Step 2 of 4")
    assert doc.topology.node("events").count == 3000 and doc.topology.scenario == []
    assert doc.undo_stack.canUndo()
    window.undo_action.trigger()
    assert doc.topology.node("events").count == 5000  # the file as shipped
    window.redo_action.trigger()
    assert doc.topology.node("events").count == 3000

    # predict by keyboard, then Run from the panel
    editor = panel.editors["lost-calm"]
    editor.setFocus()
    qtbot.keyClicks(editor, "0")
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    wait_phase(qtbot, window, ("starting", "running"), 30)
    assert not editor.isEnabled() and "locked in" in panel.status.text()
    wait_phase(qtbot, window, ("ended",), 120)
    qtbot.waitUntil(lambda: bool(_ledger_answers(panel)), timeout=5000)
    calm = window.run_mode.session.summary["total"]
    assert _ledger_answers(panel) == [("0", f"{calm['lost']:,}")]
    assert_run_left_nothing(window)

    # step 3, from the keyboard shortcut: the worker is killed; predict, run, read the difference
    qtbot.keyClick(panel.next_button, Qt.Key.Key_Right,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: panel.step_label.text().startswith("Step 3 of 4"), timeout=3000)
    assert doc.topology.scenario[0].target == "worker-b"
    panel.editors["lost-killed"].setText("10")
    panel.editors["sender-errors"].setText("3")
    assert lesson.run()
    wait_phase(qtbot, window, ("ended",), 120)
    qtbot.waitUntil(lambda: len(_ledger_answers(panel)) == 2, timeout=5000)
    killed = window.run_mode.session.summary["total"]
    assert _ledger_answers(panel) == [("10", f"{killed['lost']:,}"), ("3", f"{killed['errors']:,}")]
    text = panel.results.toPlainText()
    assert "ZeroMQ has no acknowledgement" in text  # the lesson's explanation of the number
    if killed["lost"]:  # and the run's own (engines.explain): who was killed, when
        assert "This run: lost" in text and "worker-b" in text
    assert "sent == 3000" in text and "Every number of this run" in text
    assert_run_left_nothing(window)

    # the last step: both runs side by side in the panel, and in the replay's compare window
    panel.next_button.click()
    assert panel.compare_button.isVisible() and panel.compare_button.isEnabled()
    compared = panel.results.toPlainText()
    assert "Two runs side by side" in compared and "nobody killed" in compared and "killed mid-stream" in compared
    lines = compared.splitlines()
    at = lines.index("lost")  # a table's cells are lines of the plain text: name, then each run's value
    assert lines[at + 1:at + 3] == [f"{calm['lost']:,}", f"{killed['lost']:,}"]
    panel.compare_button.click()
    view = lesson.compare_windows[-1]
    assert len(view.views) == 2
    view.close()
    QApplication.processEvents()


def test_run_without_predictions_is_asked_first(window, monkeypatch):
    asked = []

    def question(parent, title, text, *args):
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", question)
    lesson = window.lessons
    assert lesson.open(catalog.LESSONS_DIR / "06-idempotent-consumer.lesson.yaml")
    assert window.doc.topology.node("card-authoriser").idempotent
    assert not lesson.run() and not window.run_mode.active  # the learner said no: nothing started
    assert asked and "2 of 2 questions have no prediction" in asked[0]
    # the naive step turns the idempotent consumer off by an undoable edit, and Previous turns it on
    lesson.next_step()
    assert not window.doc.topology.node("card-authoriser").idempotent
    window.undo_action.trigger()
    assert window.doc.topology.node("card-authoriser").idempotent
    lesson.previous_step()
    assert window.doc.topology.node("card-authoriser").idempotent and lesson.index == 0
