"""The editor, offscreen, running a topology: `python drive_gui.py FILE RUN_ROOT SECONDS`.

With the GUI's run mode (labgui.run.mode) it presses Run and, after SECONDS,
Stop; without it, it runs the same Supervisor from the Qt event loop as the
run mode does (start and finish on worker threads, a timer on the GUI
thread). The run directory is the one subdirectory of RUN_ROOT.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer  # noqa: E402

from labgui.app.app import application, open_window  # noqa: E402


def main(argv: list[str]) -> int:
    path, root, seconds = Path(argv[0]), Path(argv[1]), float(argv[2])
    root.mkdir(parents=True, exist_ok=True)
    app = application()
    window = open_window(path)
    from labgui.app import app as app_module
    install = getattr(app_module, "install_signal_handlers", None)  # SIGTERM: stop in order, quit
    wake = install(app, window) if install is not None else None  # noqa: F841 - kept alive
    run_mode = getattr(window, "run_mode", None)
    timer = QTimer()
    if run_mode is not None:
        run_mode.run_root = root
        assert run_mode.run(), "the run mode refused the topology"
        stop = run_mode.stop

        def running() -> bool:
            return bool(run_mode.phase == "running")
    else:
        from engines.runtime import Supervisor

        sup = Supervisor(window.doc.topology.model_copy(deep=True), root / "run")
        sup.start_async()

        def stop() -> None:
            sup.finish_async().add_done_callback(lambda _: sup.close())

        def running() -> bool:
            return sup.started_at is not None
    since: list[float] = []

    def tick() -> None:  # SECONDS after the clients started, stop as the Stop button does
        if not since and running():
            since.append(time.monotonic())
        if since and time.monotonic() - since[0] >= seconds:
            timer.stop()
            stop()

    timer.timeout.connect(tick)
    timer.start(100)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
