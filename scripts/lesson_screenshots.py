"""Lesson 03 at each step, as docs/images/lesson-*.png: predict, running, answers, comparison, side by side.

Run under Xvfb with the real xcb platform, from the project root, with a state folder of its own:
  Xvfb :57 -screen 0 1400x900x24 &
  DISPLAY=:57 QT_QPA_PLATFORM=xcb LAB_STATE_DIR=$(mktemp -d) python scripts/lesson_screenshots.py docs/images
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, ".")

from labgui.app.app import application  # noqa: E402 - the project root first
from labgui.app.mainwindow import MainWindow  # noqa: E402

LESSON = "lesson-03-brokerless-messaging"


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = application()
    window = MainWindow()
    window.start(None)
    window.resize(1400, 880)
    window.show()

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    def wait_run(began: float, limit_s: float = 60) -> None:
        while window.run_mode.active and time.monotonic() - began < limit_s:
            pump(0.2)

    pump(1)
    window.guide.show_tab(window.guide.panel.welcome)
    pump(0.5)
    action = next(a for a in window.findChildren(type(window.run_mode.run_action)) if a.objectName() == LESSON)
    action.trigger()
    pump(1)
    lesson = window.lessons
    lesson.go(2)  # kill a PULL worker
    pump(0.8)
    lesson.panel.editors["lost-killed"].setText("0")
    lesson.panel.editors["sender-errors"].setText("10")
    pump(0.3)
    window.grab().save(str(out / "lesson-1-predict.png"))
    lesson.run()
    began = time.monotonic()
    while window.run_mode.phase != "running" and time.monotonic() - began < 30:
        pump(0.1)
    pump(2.0)
    window.grab().save(str(out / "lesson-2-running.png"))
    wait_run(began)
    pump(1.5)
    window.grab().save(str(out / "lesson-3-answers.png"))
    lesson.go(1)
    pump(0.5)
    lesson.panel.editors["lost-calm"].setText("0")
    lesson.run()
    began = time.monotonic()
    pump(1)
    wait_run(began)
    pump(1)
    lesson.go(3)
    pump(1)
    window.grab().save(str(out / "lesson-4-comparison.png"))
    view = lesson.open_comparison()
    pump(2)
    if view is not None:
        view.seek(view.span * 0.8)
        pump(1)
        view.grab().save(str(out / "lesson-5-side-by-side.png"))
        view.close()
    print("runs:", ", ".join(lesson.runs))
    window.run_mode.shutdown()
    window.doc.mark_saved()
    window.close()
    pump(0.5)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
