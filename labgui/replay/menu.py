"""File > Open Run...: pick a run directory and open it in a replay window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu

from engines.runtime.rundir import default_root
from engines.trace.rundata import RunDirError
from labgui.editor import dialogs


def open_run(window: QMainWindow, path: str | Path) -> Any:
    """Open `path` in a replay window; a damaged directory gets a dialog saying why (None then)."""
    from labgui.replay.window import open_replay

    try:
        replay = open_replay(path)
    except RunDirError as exc:
        dialogs.show_error(window, "Cannot open this run", str(exc))
        return None
    replays = window.property("replays") or []
    window.setProperty("replays", [*replays, replay])  # kept alive with the editor
    return replay


def attach(window: QMainWindow) -> QAction:
    action = QAction("Open &Run...", window)
    action.setShortcut(QKeySequence("Ctrl+Shift+O"))
    action.setToolTip("Open a finished run directory and replay it (time slider, play, jump to faults)")

    def choose() -> None:
        root = default_root()
        path = QFileDialog.getExistingDirectory(window, "Open a run directory",
                                                str(root if root.exists() else Path.home()))
        if path:
            open_run(window, path)

    action.triggered.connect(choose)
    compare = QAction("Co&mpare Runs...", window)
    compare.setToolTip("Open two finished runs side by side on one time slider")

    def choose_two() -> None:
        root = default_root()
        start = str(root if root.exists() else Path.home())
        first = QFileDialog.getExistingDirectory(window, "First run directory", start)
        second = QFileDialog.getExistingDirectory(window, "Second run directory", first or start) if first else ""
        if first and second:
            from labgui.replay.compare_window import open_compare

            try:
                view = open_compare([first, second])
            except RunDirError as exc:
                dialogs.show_error(window, "Cannot compare these runs", str(exc))
                return
            window.setProperty("replays", [*(window.property("replays") or []), view])

    compare.triggered.connect(choose_two)
    for top in window.menuBar().actions():
        menu = top.menu()
        if top.text() == "&File" and isinstance(menu, QMenu):
            after = next((a for a in menu.actions() if a.menu() is not None), None)  # before Open Recent
            for item in (action, compare):
                menu.insertAction(after, item) if after is not None else menu.addAction(item)
    window.addAction(action)
    return action
