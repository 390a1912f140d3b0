"""Plots that invent nothing (issue 16, defect 8): gaps where nothing was sampled, legends off the data."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QApplication

from engines.report.build import QUEUE_GAP_S, gaps_broken
from labgui.run.plots import LivePlot


def test_a_queue_line_breaks_where_the_broker_could_not_be_sampled():
    t = np.array([0.0, 0.5, 1.0, 1.5, 6.0, 6.5])  # the broker was down from about 1.5 s to 6 s
    v = np.array([10.0, 20, 30, 40, 45, 40])
    bt, bv = gaps_broken(t, v, QUEUE_GAP_S)
    assert np.isnan(bv).sum() == 1 and np.isnan(bt[4])
    assert list(bv[:4]) == [10, 20, 30, 40] and list(bv[5:]) == [45, 40]


def test_the_legend_sits_outside_the_plotted_area(qtbot):
    plot = LivePlot("waiting", "messages")
    qtbot.addWidget(plot)
    plot.resize(320, 240)
    plot.show()
    qtbot.waitExposed(plot)
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
