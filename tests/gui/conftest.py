"""Fixtures for driving the editor offscreen: a window, example files, real mouse input.

Every dialog goes through `labgui.editor.dialogs`; by default each one fails the test
(a modal dialog would hang it), and a test that expects a question answers it
with `answer(...)`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from labgui.app.mainwindow import MainWindow
from labgui.editor import dialogs
from tests.conftest import EXAMPLES

DIALOGS = ("ask_unsaved_changes", "ask_recover", "show_problems", "show_error",
           "ask_open_path", "ask_save_path", "ask_quit_during_run")


@pytest.fixture(autouse=True)
def clear_clipboard(qapp: QApplication) -> Iterator[None]:
    """Empty the clipboard after each test: QMimeData left on it at interpreter exit crashes
    PySide6 (a segmentation fault after the last test, failing the run)."""
    yield
    QApplication.clipboard().clear()
    QApplication.processEvents()


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Recent files and recovery copies go to a temporary folder, never the user's."""
    path = tmp_path / "state"
    monkeypatch.setenv("LAB_STATE_DIR", str(path))
    return path


class Answers:
    """Records every question asked and gives the prepared answer."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.asked: list[tuple[str, tuple[Any, ...]]] = []
        self._answers: dict[str, Any] = {}
        for name in DIALOGS:
            monkeypatch.setattr(dialogs, name, self._make(name))

    def _make(self, name: str) -> Callable[..., Any]:
        def reply(*args: Any) -> Any:
            self.asked.append((name, args))
            if name not in self._answers:
                raise AssertionError(f"unexpected dialog {name}{args[1:]}")
            return self._answers[name]
        return reply

    def __call__(self, name: str, value: Any = None) -> None:
        self._answers[name] = value

    def names(self) -> list[str]:
        return [name for name, _ in self.asked]


@pytest.fixture
def answer(monkeypatch: pytest.MonkeyPatch) -> Answers:
    return Answers(monkeypatch)


@pytest.fixture
def window(qtbot: Any, answer: Answers) -> Iterator[MainWindow]:
    win = MainWindow()  # not qtbot.addWidget: it closes before this teardown can mark it saved
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.doc.mark_saved()  # teardown must not ask about unsaved changes
    if "ask_quit_during_run" not in answer._answers:
        answer("ask_quit_during_run", "kill")  # a run still on at teardown ends at once, as before
    win.close()
    win.deleteLater()
    QApplication.processEvents()


@pytest.fixture
def example_copy(tmp_path: Path) -> Callable[[str], Path]:
    """Copy an example (by number prefix) into tmp_path, so saving never touches the repo."""
    def copy(prefix: str) -> Path:
        source = next(p for p in EXAMPLES if p.name.startswith(prefix))
        target = tmp_path / source.name
        shutil.copyfile(source, target)
        return target
    return copy


@pytest.fixture
def opened(window: MainWindow, example_copy: Callable[[str], Path]) -> Callable[[str], Path]:
    def open_example(prefix: str) -> Path:
        path = example_copy(prefix)
        assert window.open_file(path)
        QApplication.processEvents()
        return path
    return open_example


# -- real mouse input on the canvas -------------------------------------------------------

def _send(window: MainWindow, kind: QEvent.Type, pos: QPointF, button: Qt.MouseButton,
          buttons: Qt.MouseButton, modifiers: Qt.KeyboardModifier, on_screen: bool = False) -> None:
    viewport = window.view.viewport()
    local = pos if on_screen else QPointF(window.view.mapFromScene(pos))
    event = QMouseEvent(kind, local, QPointF(viewport.mapToGlobal(local.toPoint())), button, buttons, modifiers)
    QApplication.sendEvent(viewport, event)


def drag(window: MainWindow, start: QPointF | tuple[float, float], end: QPointF | tuple[float, float],
         modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
         button: Qt.MouseButton = Qt.MouseButton.LeftButton, steps: int = 6,
         on_screen: bool = False) -> None:
    """Press at `start`, move in steps, release at `end` (scene coordinates, or viewport ones)."""
    a, b = QPointF(*start) if isinstance(start, tuple) else start, QPointF(*end) if isinstance(end, tuple) else end
    _send(window, QEvent.Type.MouseButtonPress, a, button, button, modifiers, on_screen)
    for i in range(1, steps + 1):
        _send(window, QEvent.Type.MouseMove, a + (b - a) * (i / steps), Qt.MouseButton.NoButton, button,
              modifiers, on_screen)
    _send(window, QEvent.Type.MouseButtonRelease, b, button, Qt.MouseButton.NoButton, modifiers, on_screen)
    QApplication.processEvents()


def click(window: MainWindow, pos: QPointF | tuple[float, float],
          modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    p = QPointF(*pos) if isinstance(pos, tuple) else pos
    _send(window, QEvent.Type.MouseButtonPress, p, Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton, modifiers)
    _send(window, QEvent.Type.MouseButtonRelease, p, Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton, modifiers)
    QApplication.processEvents()


def handle_of(window: MainWindow, name: str) -> QPointF:
    """The scene position of a node's + handle, where a link drag starts."""
    item = window.scene.node_item(name)
    return item.mapToScene(item.handle_centre())


def view_point(window: MainWindow, scene_pos: QPointF) -> QPoint:
    return window.view.mapFromScene(scene_pos)


def drop_from_palette(window: MainWindow, kind: Any, scene_pos: tuple[float, float]) -> None:
    """Drag a palette card onto the canvas: enter, move and drop events on the viewport."""
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent

    from labgui.editor.palette import mime_for

    mime = mime_for(kind)
    viewport = window.view.viewport()
    local = window.view.mapFromScene(QPointF(*scene_pos))
    actions, buttons, mods = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(local, actions, mime, buttons, mods)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted(), "the canvas refused the palette drag"
    QApplication.sendEvent(viewport, QDragMoveEvent(local, actions, mime, buttons, mods))
    drop = QDropEvent(QPointF(local), actions, mime, buttons, mods)
    QApplication.sendEvent(viewport, drop)
    QApplication.processEvents()
