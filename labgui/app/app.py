"""`launch(path)`: the editor as an application (called by `labgui [FILE]`)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from engines.topology.examples import default_example
from labgui.app.mainwindow import APP_NAME, MainWindow


def application() -> QApplication:
    """The one QApplication, created with the lab's look if it does not exist yet."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setStyle("Fusion")
        # Data we put on the clipboard dies with the process anyway; leaving our QMimeData
        # there until interpreter exit crashes PySide6 on the way out.
        app.aboutToQuit.connect(lambda: QGuiApplication.clipboard().clear())
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("topology-lab")
    QGuiApplication.setDesktopFileName("topology-lab")
    assert isinstance(app, QApplication)
    return app


def open_window(path: str | Path | None = None) -> MainWindow:
    """Show the editor at 1280x800 (or the screen, if smaller) on `path` or the default example."""
    window = MainWindow()
    screen = QGuiApplication.primaryScreen()
    if screen is not None:
        area = screen.availableGeometry()
        window.resize(min(1280, area.width()), min(800, area.height()))
    window.show()
    window.start(path if path is not None else default_example())
    return window


def launch(path: str | Path | None = None) -> int:
    """Run the editor until its window closes; return the exit code."""
    app = application()
    window = open_window(path)  # noqa: F841 - kept alive while the loop runs
    return app.exec()
