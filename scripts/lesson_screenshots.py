"""Lesson 03 at each step, as docs/images/lesson-*.png: predict, running, answers, comparison, side by side.

Run under Xvfb with the real xcb platform, from the project root, with a state folder of its own:
  Xvfb :57 -screen 0 1400x900x24 &
  DISPLAY=:57 QT_QPA_PLATFORM=xcb LAB_STATE_DIR=$(mktemp -d) python scripts/lesson_screenshots.py docs/images
"""
import sys, time
from pathlib import Path
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QTimer
sys.path.insert(0, ".")
from labgui.app.app import application
from labgui.app.mainwindow import MainWindow
from engines.topology import examples

out = Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
app = application() if callable(application) else QApplication([])
w = MainWindow()
w.start(None)
w.resize(1400, 880)
w.show()
def pump(s):
    end = time.monotonic() + s
    while time.monotonic() < end:
        app.processEvents(); time.sleep(0.02)
pump(1)
w.guide.show_tab(w.guide.panel.welcome); pump(0.5)
act = next(a for a in w.findChildren(type(w.run_mode.run_action)) if a.objectName() == "lesson-03-brokerless-messaging")
act.trigger(); pump(1)
c = w.lessons
c.go(2); pump(0.8)   # kill a PULL worker
c.panel.editors["lost-killed"].setText("0")
c.panel.editors["sender-errors"].setText("10")
pump(0.3)
w.grab().save(str(out / "lesson-1-predict.png"))
c.run(); 
t0=time.monotonic()
while w.run_mode.phase not in ("running",) and time.monotonic()-t0 < 30: pump(0.1)
pump(2.0)
w.grab().save(str(out / "lesson-2-running.png"))
while w.run_mode.active and time.monotonic()-t0 < 60: pump(0.2)
pump(1.5)
w.grab().save(str(out / "lesson-3-answers.png"))
c.go(1); pump(0.5); c.panel.editors["lost-calm"].setText("0"); c.run()
t0=time.monotonic()
pump(1)
while w.run_mode.active and time.monotonic()-t0 < 60: pump(0.2)
pump(1)
c.go(3); pump(1)
w.grab().save(str(out / "lesson-4-comparison.png"))
view = c.open_comparison(); pump(2)
if view is not None:
    view.seek(view.span * 0.8); pump(1)
    view.grab().save(str(out / "lesson-5-side-by-side.png"))
    view.close()
print("runs:", ", ".join(c.runs))
w.run_mode.shutdown()
w.doc.mark_saved()
w.close(); pump(0.5)
