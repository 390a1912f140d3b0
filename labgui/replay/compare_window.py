"""Two (or more) finished runs side by side, each in its replay view, on one linked time slider.

Time on the shared slider is seconds since each run's clients started, so a
managed broker's boot does not put one run behind the other. Each side keeps
its own canvas, counters and throughput plot; the other docks are hidden to
leave room.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engines.replay.compare import open_side
from labgui.replay.window import STEPS, ReplayWindow

KEEP_DOCKS = ("Counters", "Throughput")


class CompareWindow(QMainWindow):
    def __init__(self, run_dirs: list[str | Path], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareWindow")
        self.sides = [open_side(p) for p in run_dirs]  # RunDirError for a damaged one
        self.setWindowTitle("Compare – " + " | ".join(s.label for s in self.sides))
        self.views: list[ReplayWindow] = []
        split = QSplitter(Qt.Orientation.Horizontal)
        for side in self.sides:
            view = ReplayWindow(side.rec)
            view.bar.hide()
            docks = view.dashboard.docks
            for key, dock in docks.items():
                dock.setVisible(key in KEEP_DOCKS)
            view.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, docks["Counters"])
            view.splitDockWidget(docks["Counters"], docks["Throughput"], Qt.Orientation.Vertical)
            docks["Counters"].show()
            view.resizeDocks([docks["Counters"], docks["Throughput"]], [250, 230], Qt.Orientation.Vertical)
            box = QWidget()
            lay = QVBoxLayout(box)
            lay.setContentsMargins(2, 2, 2, 2)
            title = QLabel(f"<b>{side.label}</b> – {side.rec.topology.name}")
            lay.addWidget(title)
            lay.addWidget(view, 1)
            split.addWidget(box)
            self.views.append(view)
        self.span = max(s.rec.end - s.origin for s in self.sides)
        self.rel, self.playing = 0.0, False
        bar = QWidget()
        row = QHBoxLayout(bar)
        row.setContentsMargins(8, 4, 8, 4)
        self.play_button = QPushButton("▶ Play")
        self.play_button.clicked.connect(self.toggle_play)
        row.addWidget(self.play_button)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("compareSlider")
        self.slider.setRange(0, STEPS)
        self.slider.valueChanged.connect(lambda v: self.seek(self.span * v / STEPS, from_slider=True))
        row.addWidget(self.slider, 1)
        self.clock = QLabel("")
        self.clock.setMinimumWidth(200)
        row.addWidget(self.clock)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split, 1)
        lay.addWidget(bar)
        self.setCentralWidget(central)
        self.timer = QTimer(self)
        self.timer.setInterval(50)
        self.timer.timeout.connect(self._tick)
        self._last = time.monotonic()
        self.seek(0.0)

    def seek(self, rel: float, from_slider: bool = False) -> None:
        self.rel = min(max(0.0, rel), self.span)
        for side, view in zip(self.sides, self.views, strict=True):
            view.seek(side.origin + self.rel)
        self.clock.setText(f"{self.rel:6.2f} s since the clients started")
        if not from_slider:
            self.slider.blockSignals(True)
            self.slider.setValue(round(self.rel / max(self.span, 1e-9) * STEPS))
            self.slider.blockSignals(False)

    def toggle_play(self) -> None:
        self.playing = not self.playing
        self.play_button.setText("⏸ Pause" if self.playing else "▶ Play")
        self._last = time.monotonic()
        self.timer.start() if self.playing else self.timer.stop()

    def _tick(self) -> None:
        now = time.monotonic()
        dt, self._last = now - self._last, now
        self.seek(self.rel + dt)
        if self.rel >= self.span:
            self.toggle_play()


def open_compare(run_dirs: list[str | Path]) -> CompareWindow:
    window = CompareWindow(run_dirs)
    window.resize(1400, 860)
    window.show()
    for view in window.views:
        view.view.fit_to_view()
    return window
