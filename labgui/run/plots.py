"""Live plots (pyqtgraph) with fault periods shaded, redrawn from buffers by the run view's timer.

Each plot is its own widget so the run view can put each in a dock the user
arranges. Redrawing is `setData` on existing curves (no antialiasing, clipped
to the view, downsampled to about a point per pixel), never a new item per
frame; fault periods reuse their region items and only move their ends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QSizePolicy, QWidget

from engines.report.periods import FaultPeriod

pg.setConfigOptions(antialias=False, background="w", foreground="#495057")

CURVE_COLOURS = ("#1c7ed6", "#e8590c", "#2f9e44", "#7048e8", "#d6336c", "#0c8599", "#5c940d",
                 "#862e9c", "#e67700", "#495057")
FAULT_COLOURS = {"kill": "#e03131", "crash": "#c92a2a", "stop": "#868e96", "pause": "#f59f00",
                 "cut": "#9c36b5", "delay": "#ae3ec9", "lossy": "#ae3ec9",
                 "late": "#1c7ed6"}  # join_after_ms: a subscriber not joined yet
MIN_SPAN_S = 10.0
LEGEND_MAX_COLUMNS = 3
LEGEND_GAP_PX = 8
X_STEP_S = 5.0


def nice_ceiling(value: float) -> float:
    """The smallest round value (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten) at or above
    `value` (1 for nothing): a y range that moves rarely and still fills the plot."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return float(next(power * m for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if power * m >= value))


class LivePlot(pg.PlotWidget):
    """One time-series plot on the run clock; `set_line(name, t, v)` adds or updates a curve.

    Untitled: the dock around it says what it shows, and the room goes to the data.
    """

    def __init__(self, name: str, unit: str, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self.setObjectName(f"plot-{name}")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 100)
        item = self.getPlotItem()
        item.setLabel("left", unit)
        item.setLabel("bottom", "s")
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        item.setMenuEnabled(False)
        item.hideButtons()
        box = item.getViewBox()
        box.setMouseEnabled(x=True, y=False)  # wheel zooms time, drag pans it; double-click follows again
        box.sigRangeChangedManually.connect(self._user_moved)
        small = QFont()
        small.setPointSizeF(7.5)
        for axis in ("left", "bottom"):
            item.getAxis(axis).setStyle(tickFont=small, tickTextOffset=2)
            item.getAxis(axis).label.setFont(small)
        # The legend goes below the plot, never over the data (the peaks are what matters).
        self.legend = pg.LegendItem(labelTextSize="7pt", verSpacing=-6, colCount=1)
        self.legend.setMinimumWidth(0)  # its entries never widen the plot past its dock
        item.layout.addItem(self.legend, 4, 0, 1, 2)  # under the axis too: the whole width
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._regions: dict[tuple[str, str, float], tuple[pg.LinearRegionItem, pg.InfiniteLine]] = {}
        self.label_faults = True
        self._span: tuple[float, float, float] | None = None
        self.empty_text = pg.TextItem("", color="#868e96", anchor=(0.5, 0.5))
        item.addItem(self.empty_text, ignoreBounds=True)
        self.following = True  # the x range follows the run until the user zooms or pans
        self.readout = pg.TextItem("", color="#212529", anchor=(0, 0), fill=pg.mkBrush(255, 255, 255, 220))
        self.readout.setZValue(50)
        item.addItem(self.readout, ignoreBounds=True)
        self.readout.hide()
        self.scene().sigMouseMoved.connect(self._hover)

    def _user_moved(self, *_args: object) -> None:
        self.following = False

    def mouseDoubleClickEvent(self, event: object) -> None:  # noqa: N802 - Qt's name
        """Back to following the run (after a zoom or pan)."""
        self.following = True
        self._span = None

    def readout_at(self, t: float) -> str:
        """'12.4 s' and each curve's value at the sample nearest `t` (what hovering shows)."""
        lines = [f"{t:.1f} s"]
        for name, curve in self.curves.items():
            xs, ys = curve.xData, curve.yData
            if xs is None or ys is None or not len(xs):
                continue
            i = int(np.nanargmin(np.abs(np.nan_to_num(xs, nan=np.inf) - t)))
            if np.isfinite(ys[i]) and abs(xs[i] - t) < 1.0:
                lines.append(f"{name}: {ys[i]:.4g}")
        return "\n".join(lines)

    def _hover(self, pos: object) -> None:
        box = self.getPlotItem().getViewBox()
        if not box.sceneBoundingRect().contains(pos):
            self.readout.hide()
            return
        point = box.mapSceneToView(pos)
        self.readout.setText(self.readout_at(point.x()))
        self.readout.setPos(point.x(), point.y())
        self.readout.show()

    def set_line(self, name: str, t: np.ndarray, v: np.ndarray, colour: str | None = None,
                 dashed: bool = False, width: float = 1.6) -> None:
        curve = self.curves.get(name)
        if curve is None:
            colour = colour or CURVE_COLOURS[len(self.curves) % len(CURVE_COLOURS)]
            pen = pg.mkPen(colour, width=width, style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
            curve = self.plot([], [], pen=pen, connect="finite")
            self.legend.addItem(curve, name)
            self.curves[name] = curve
            self.fit_legend()
        curve.setData(t, v)

    def resizeEvent(self, event: object) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if "legend" in self.__dict__:  # Qt resizes the view before __init__ made the legend
            self.fit_legend()

    def fit_legend(self) -> None:
        """As many legend columns as the plot's width holds, one at least.

        A fixed two-column legend gave the plot a minimum width wider than a narrow dock, and
        the dock then showed only the plot's left half (its x axis stopped at 4 of 10 s).
        """
        entries = self.legend.items
        if not entries:
            return
        widest = max(sample.boundingRect().width() + label.itemRect().width() for sample, label in entries)
        columns = int(self.width() // (widest + LEGEND_GAP_PX))
        self.legend.setColumnCount(max(1, min(LEGEND_MAX_COLUMNS, columns, len(entries))))

    def set_empty_text(self, text: str) -> None:
        self.empty_text.setText(text)

    def set_span(self, now: float, window_s: float | None = None) -> None:
        """Show the run from 0 (or the last `window_s`) to a little past now; y from 0 with room.

        Both ends move in steps (x by 5 s, y to the next 1-2-5 value), so the axes, whose
        redrawing is most of a plot's cost, change a few times a run rather than every frame.
        """
        end = max(MIN_SPAN_S, math.ceil((now + 0.5) / X_STEP_S) * X_STEP_S)
        start = 0.0 if window_s is None else max(0.0, end - window_s)
        top = 0.0
        for curve in self.curves.values():
            _, ys = curve.getData()
            if ys is not None and len(ys):
                finite = ys[np.isfinite(ys)]
                if len(finite):
                    top = max(top, float(finite.max()))
        span = (start, end, nice_ceiling(top * 1.15))
        if not self.following:  # the user zoomed or panned: keep their x range, still fit y
            self.getPlotItem().setYRange(0, span[2], padding=0)
            return
        if span != self._span:
            self._span = span
            item = self.getPlotItem()
            item.setXRange(start, end, padding=0)
            item.setYRange(0, span[2], padding=0)
            self.empty_text.setPos((start + end) / 2, span[2] / 2)

    def set_periods(self, periods: Sequence[FaultPeriod]) -> None:
        """Shade each fault span; a span still open grows with the run."""
        item = self.getPlotItem()
        wanted = {}
        for period in periods:
            key = (period.target, period.action, round(period.start, 3))
            wanted[key] = period
            if key not in self._regions:
                colour = QColor(FAULT_COLOURS.get(period.action, "#868e96"))
                fill = QColor(colour)
                fill.setAlpha(45)
                region = pg.LinearRegionItem((period.start, period.end), movable=False,
                                             brush=pg.mkBrush(fill), pen=pg.mkPen(None))
                region.setZValue(-10)
                line = pg.InfiniteLine(period.start, angle=90, movable=False,
                                       pen=pg.mkPen(colour, width=1.5),
                                       label=f" {period.label}" if self.label_faults else None,
                                       labelOpts={"position": 0.55, "color": colour, "anchors": [(0, 0), (0, 0)],
                                                  "fill": pg.mkBrush(255, 255, 255, 210)})
                item.addItem(region, ignoreBounds=True)
                item.addItem(line, ignoreBounds=True)
                self._regions[key] = (region, line)
            self._regions[key][0].setRegion((period.start, period.end))
        for key in [k for k in self._regions if k not in wanted]:
            region, line = self._regions.pop(key)
            item.removeItem(region)
            item.removeItem(line)

    def clear_all(self) -> None:
        item = self.getPlotItem()
        for curve in self.curves.values():
            item.removeItem(curve)
        self.curves.clear()
        self.legend.clear()
        self._span = None
        self.set_periods([])
        self.set_empty_text("")
