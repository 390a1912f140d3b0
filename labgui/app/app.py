"""`launch(path)`: the editor as an application (called by `labgui [FILE]`)."""

from __future__ import annotations

import signal
import sys
import time
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


STOP_BUDGET_S = 30.0  # a terminated editor waits this long for its run's ordered stop


def terminate(app: QApplication, window: MainWindow) -> None:
    """SIGTERM or SIGHUP (logout, `kill`, a closed terminal): no dialog can be answered, so
    keep unsaved changes in the recovery file, stop a run in order so its summary is
    written (killing it after STOP_BUDGET_S), and quit."""
    window.files.autosave()
    session = window.run_mode.session
    if session is not None and session.active:
        session.stop()
        deadline = time.monotonic() + STOP_BUDGET_S
        while session.summary is None and session.error is None and not session.done.is_set() \
                and time.monotonic() < deadline:
            session.done.wait(0.1)
    window.run_mode.shutdown()
    app.quit()


def install_signal_handlers(app: QApplication, window: MainWindow) -> QTimer:
    """Handle SIGTERM and SIGHUP with `terminate`. Python runs a signal handler only when
    it gets control, so a timer wakes it while Qt waits; keep the returned timer alive."""
    def on_signal(signum: int, frame: object) -> None:
        QTimer.singleShot(0, lambda: terminate(app, window))

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    wake = QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(200)
    return wake


def launch(path: str | Path | None = None, screenshot: Path | None = None) -> int:
    """Run the editor until its window closes (or SIGTERM/SIGHUP); return the exit code.

    With `screenshot`, the screen is saved once the window has shown the file
    (the smoke test of `make test` and the README's pictures use it).
    """
    app = application()
    window = open_window(path)
    wake = install_signal_handlers(app, window)  # noqa: F841 - kept alive while the loop runs
    if screenshot is not None:
        QTimer.singleShot(SCREENSHOT_DELAY_MS, lambda: save_screen(window, screenshot))
    return app.exec()
