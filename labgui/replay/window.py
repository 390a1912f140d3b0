"""The replay window: the run's canvas, counters and plots at time t, with a slider and controls.

Play/pause at 0.25x to 8x, jump to the previous/next event or fault (kill,
pause, cut and their ends). The counters show what the nodes had recorded at t
(sent, acknowledged, processed, duplicates suppressed...); lost and in doubt
are the ledger's, known at the end of the run only, so they show '–' before it.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from engines.replay.recording import Recording
from labgui.canvas.scene import CanvasScene
from labgui.canvas.view import CanvasView
from labgui.document.document import TopologyDocument
from labgui.replay.sampler import ReplaySampler
from labgui.run.canvas import RunCanvas
from labgui.run.dashboard import Dashboard

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
STEPS = 1000  # slider positions over the run
TICK_MS = 50
ONLY_AT_END = ("lost", "in_doubt", "duplicates_processed", "duplicates_delivered")


class ReplayWindow(QMainWindow):
    def __init__(self, recording: Recording, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("replayWindow")
        self.rec = recording
        self.setWindowTitle(f"Replay – {recording.topology.name} – {recording.run_dir.name}")
        self.doc = TopologyDocument(recording.topology, self)
        self.scene = CanvasScene(self.doc, self)
        self.scene.set_editable(False)
        self.view = CanvasView(self.scene)
        self.canvas = RunCanvas(self.scene)
        self.sampler = ReplaySampler(recording)
        self.dashboard = Dashboard(self)
        self.dashboard.begin(self.sampler.sup)
        if recording.summary is not None:
            self.dashboard.result.show_summary(recording.summary)
        self.canvas.begin()
        self.t, self.playing, self.speed = recording.start, False, 1.0
        self._controls()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.bar)
        self.setCentralWidget(central)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self._last = time.monotonic()
        self.seek(recording.start)

    def _button(self, text: str, tip: str, slot: object) -> QPushButton:
        b = QPushButton(text)
        b.setToolTip(tip)
        b.clicked.connect(slot)
        self.bar_layout.addWidget(b)
        return b

    def _controls(self) -> None:
        self.bar = QWidget()
        self.bar.setObjectName("replayControls")
        self.bar_layout = QHBoxLayout(self.bar)
        self.bar_layout.setContentsMargins(8, 4, 8, 4)
        self._button("|◀ fault", "Previous fault (kill, pause, cut, or its end)", lambda: self.jump(-1, True))
        self._button("◀ event", "Previous event", lambda: self.jump(-1, False))
        self.play_button = self._button("▶ Play", "Play / pause (Space)", self.toggle_play)
        self.play_button.setShortcut(Qt.Key.Key_Space)
        self._button("event ▶", "Next event", lambda: self.jump(1, False))
        self._button("fault ▶|", "Next fault (kill, pause, cut, or its end)", lambda: self.jump(1, True))
        self.speed_box = QComboBox()
        for s in SPEEDS:
            self.speed_box.addItem(f"{s:g}×", s)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.currentIndexChanged.connect(lambda _i: setattr(self, "speed", float(self.speed_box.currentData())))
        self.speed_box.setToolTip("Playback speed")
        self.bar_layout.addWidget(self.speed_box)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("replaySlider")
        self.slider.setRange(0, STEPS)
        self.slider.sliderMoved.connect(lambda v: self.seek(self._t_of(v)))
        self.slider.valueChanged.connect(self._slider_changed)
        self.bar_layout.addWidget(self.slider, 1)
        self.clock = QLabel("")
        self.clock.setObjectName("replayClock")
        self.clock.setMinimumWidth(150)
        self.bar_layout.addWidget(self.clock)
        self._button("Messages…", "The message IDs behind each counter, and each one's story", self.messages)

    def _t_of(self, value: int) -> float:
        span = max(1e-9, self.rec.end - self.rec.start)
        return self.rec.start + span * value / STEPS

    def _slider_changed(self, value: int) -> None:
        if not self.slider.isSliderDown() and abs(self._t_of(value) - self.t) > (self.rec.end - self.rec.start) / STEPS:
            self.seek(self._t_of(value))

    # -- time ----------------------------------------------------------------------------------
    def seek(self, t: float) -> None:
        t = min(max(t, self.rec.start), self.rec.end)
        backwards = t < self.t
        self.t = t
        moment = self.sampler.seek(t)
        if backwards:
            self.dashboard.events.clear()
            self.sampler.rewind_events()
        self.dashboard.events.add_events(self.sampler.take_events(), self.sampler.shift())  # run clock
        view = self.sampler.ledger_view()
        final = moment.final is not None
        self.canvas.show(self.sampler, {"nodes": view["nodes"]})
        self.dashboard.counters.show_values(moment.final if final else view["total"], final=final)
        if not final:
            for key in ONLY_AT_END:
                if key in self.dashboard.counters.tiles:
                    self.dashboard.counters.tiles[key].set_value(None)
            self.dashboard.counters.note.setText(f"as recorded at t = {t - self.rec.origin:.2f} s; lost and in doubt are "
                                                 "the ledger's, known at the end")
        self.dashboard.redraw_plots(self.sampler)
        origin = self.rec.origin  # shown on the run clock: seconds since the clients started
        self.clock.setText(f"t = {t - origin:7.2f} s / {self.rec.end - origin:.2f} s")
        self.clock.setToolTip("seconds since the clients started (the run clock of the live view, "
                              "the scenario and the report)")
        self.slider.blockSignals(True)
        span = max(1e-9, self.rec.end - self.rec.start)
        self.slider.setValue(round((t - self.rec.start) / span * STEPS))
        self.slider.blockSignals(False)

    def jump(self, direction: int, faults: bool) -> None:
        mark = (self.rec.next_mark(self.t, faults) if direction > 0 else self.rec.previous_mark(self.t, faults))
        if mark is not None:
            self.seek(mark)
        else:
            self.statusBar().showMessage(f"no {'fault' if faults else 'event'} "
                                         f"{'after' if direction > 0 else 'before'} t = {self.t - self.rec.origin:.2f} s", 4000)

    def toggle_play(self) -> None:
        self.playing = not self.playing
        if self.playing and self.t >= self.rec.end:
            self.seek(self.rec.start)
        self.play_button.setText("⏸ Pause" if self.playing else "▶ Play")
        self._last = time.monotonic()
        if self.playing:
            self.timer.start()
        else:
            self.timer.stop()

    def _tick(self) -> None:
        now = time.monotonic()
        dt, self._last = now - self._last, now
        self.seek(self.t + dt * self.speed)
        self.canvas.animate(self.sampler, dt)
        if self.t >= self.rec.end:
            self.toggle_play()

    def messages(self) -> None:
        from labgui.run.trace_view import MessagesDialog

        dialog = MessagesDialog(self.rec.run_dir, self,
                                highlight=lambda nodes, links: self.scene.select(nodes, links))
        dialog.show()
        self.messages_dialog = dialog


def open_replay(run_dir: str | Path, parent: QWidget | None = None) -> ReplayWindow:
    """Raises engines.trace.rundata.RunDirError (a clear message) for a damaged run directory."""
    window = ReplayWindow(Recording.open(run_dir), parent)
    window.resize(1280, 800)
    window.show()
    window.view.fit_to_view()
    return window
