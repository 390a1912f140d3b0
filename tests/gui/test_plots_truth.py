"""Plots that invent nothing (issue 16, defect 8): gaps where nothing was sampled, legends off the data."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from engines.report.build import QUEUE_GAP_S, gaps_broken
from labgui.run.plots import LivePlot


def test_a_queue_line_breaks_where_the_broker_could_not_be_sampled():
    t = np.array([0.0, 0.5, 1.0, 1.5, 6.0, 6.5])  # the broker was down from about 1.5 s to 6 s
    v = np.array([10.0, 20, 30, 40, 45, 40])
    bt, bv = gaps_broken(t, v, QUEUE_GAP_S)
    assert np.isnan(bv).sum() == 1 and np.isnan(bt[4])
    assert list(bv[:4]) == [10, 20, 30, 40] and list(bv[5:]) == [45, 40]


def _shown(qtbot, name: str, unit: str, width: int, height: int) -> LivePlot:
    plot = LivePlot(name, unit)
    qtbot.addWidget(plot)
    plot.resize(width, height)
    plot.show()
    qtbot.waitExposed(plot)
    return plot


def test_the_legend_sits_outside_the_plotted_area(qtbot):
    plot = _shown(qtbot, "waiting", "messages", 320, 240)
    t = np.linspace(0, 10, 50)
    for name in ("queue rabbit/payments", "checkout backlog", "queue rabbit/refunds"):
        plot.set_line(name, t, np.sin(t) * 100 + 100)
    plot.set_span(10)
    QApplication.processEvents()
    view = plot.getPlotItem().getViewBox().sceneBoundingRect()
    legend = plot.legend.sceneBoundingRect()
    assert legend.height() > 0 and legend.width() > 0
    assert not legend.intersects(view), (legend, view)
    assert len(plot.legend.items) == 3


def test_a_narrow_plot_shows_its_whole_span_and_a_wide_one_spreads_its_legend(qtbot):
    """A dock 150 px wide showed the plot's left half: the legend's two columns set its minimum width."""
    plot = _shown(qtbot, "latency", "ms", 150, 240)
    t = np.linspace(0, 10, 50)
    for name in ("checkout->payments p99", "checkout->inventory p99", "events->worker-b p50"):
        plot.set_line(name, t, t * 10)
    plot.set_span(10)
    QApplication.processEvents()
    box = plot.getPlotItem().getViewBox()
    shown = plot.mapToScene(plot.viewport().rect()).boundingRect()
    assert box.sceneBoundingRect().right() <= shown.right() + 1, (box.sceneBoundingRect(), shown)
    assert box.viewRange()[0][1] >= 10  # the axis reaches the span's end, not half of it
    assert plot.legend.columnCount == 1
    plot.resize(900, 240)
    QApplication.processEvents()
    assert plot.legend.columnCount == 3


def test_hovering_reads_values_and_a_zoom_stops_following_until_double_click(qtbot):
    plot = _shown(qtbot, "throughput", "msg/s", 400, 260)
    t = np.arange(0, 20, 0.2)
    plot.set_line("a->b", t, np.where(t < 10, 100.0, 0.0))
    plot.set_span(20)
    assert "a->b: 100" in plot.readout_at(5.0) and "a->b: 0" in plot.readout_at(15.0)
    box = plot.getPlotItem().getViewBox()
    centre = box.mapViewToScene(box.viewRect().center())
    plot.scene().sigMouseMoved.emit(centre)
    assert plot.readout.isVisible() and " s" in plot.readout.toPlainText()
    box.sigRangeChangedManually.emit([True, False])  # as a wheel zoom does
    box.setXRange(4, 6, padding=0)
    plot.set_span(25)
    assert box.viewRange()[0] == [4, 6]  # the user's zoom holds while the run goes on
    qtbot.mouseDClick(plot.viewport(), Qt.MouseButton.LeftButton)
    plot.set_span(25)
    assert box.viewRange()[0][1] >= 25  # following the run again
