"""`launch(path)`: the editor as an application (called by `labgui [FILE]`)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QStyleFactory

from engines.topology.examples import default_example
from labgui.app.mainwindow import APP_NAME, MainWindow

SCREENSHOT_DELAY_MS = 1500  # the window mapped, the file opened and fitted, the first paint done


def use_lab_look(app: QApplication) -> None:
    """Fusion with its own light palette, whatever the desktop's: the canvas, the plots and the
    palette cards are drawn light, and a dark desktop palette made their text unreadable."""
    app.setStyle("Fusion")
    style = QStyleFactory.create("Fusion")
    if style is not None:
        app.setPalette(style.standardPalette())


def application() -> QApplication:
    """The one QApplication, created with the lab's look if it does not exist yet."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        use_lab_look(app)
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
    window.guide.first_start()  # the welcome, once per user
    return window


def save_screen(window: MainWindow, target: Path) -> bool:
    """Save what the display shows (the real pixels of the whole screen) as a PNG."""
    screen = window.screen()  # the screen the window is on (Qt types it as never None)
    target.parent.mkdir(parents=True, exist_ok=True)
    return screen.grabWindow(0).save(str(target))


def launch(path: str | Path | None = None, screenshot: Path | None = None) -> int:
    """Run the editor until its window closes; return the exit code.

    With `screenshot`, the screen is saved once the window has shown the file
    (the smoke test of `make test` and the README's pictures use it).
    """
    app = application()
    window = open_window(path)
    if screenshot is not None:
        QTimer.singleShot(SCREENSHOT_DELAY_MS, lambda: save_screen(window, screenshot))
    return app.exec()
