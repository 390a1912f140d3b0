"""What the run view needs of the window that holds it.

The main window (`labgui.app.mainwindow`) offers all of this; the run view
names only these members, so it never imports the window and the window can
change behind them.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QSize
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMenu, QMenuBar, QStatusBar, QStyle, QToolBar

from labgui.canvas.scene import CanvasScene
from labgui.canvas.view import CanvasView
from labgui.document.document import TopologyDocument
from labgui.editor.problems_panel import ProblemsPanel


class FileActions(Protocol):
    """The window's actions the run view disables while a run is on, or offers in its menus."""

    @property
    def new(self) -> QAction: ...

    @property
    def open(self) -> QAction: ...

    @property
    def fit(self) -> QAction: ...


class RunHost(Protocol):
    """The window, as the run view sees it (a QMainWindow with the editor's parts)."""

    doc: TopologyDocument
    scene: CanvasScene
    view: CanvasView
    toolbar: QToolBar
    problems: ProblemsPanel
    palette_dock: QDockWidget
    inspector_dock: QDockWidget
    problems_dock: QDockWidget
    examples_menu: QMenu
    recent_menu: QMenu

    @property
    def editor_actions(self) -> FileActions: ...

    def has_recent_files(self) -> bool: ...

    def set_editing_locked(self, locked: bool, reason: str = ...) -> None: ...

    def show_message(self, text: str) -> None: ...

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 (Qt's names)

    def menuBar(self) -> QMenuBar: ...  # noqa: N802

    def style(self) -> QStyle: ...

    def size(self) -> QSize: ...
