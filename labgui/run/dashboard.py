"""The run dashboard: docks for the counters, five live plots, the event log, node logs, the result.

Every panel is its own dock, so the user can move, stack or close it; the
first run lays them out around the canvas (counters and logs on the right,
plots along the bottom). `update()` redraws from the sampler's buffers; it is
called by the run view's one timer, never per message.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from engines import transports
from engines.ledger import live
from engines.topology import chains
from labgui.run.counters_panel import CountersPanel
from labgui.run.live_data import RATE_LAG_S, LiveSampler
from labgui.run.log_clock import wall_origin
from labgui.run.logs_panel import EventLogPanel, NodeLogPanel
from labgui.run.plots import LivePlot
from labgui.run.result_panel import ResultPanel

if TYPE_CHECKING:
    from engines.topology.model import Topology

MAX_LINK_CURVES = 8
DOCK_TITLES = {
    "Throughput": "Messages/s per link",
    "Waiting": "Messages waiting",
    "Latency": "Latency (ms)",
    "Errors": "Errors and timeouts",
    "In flight": "Calls in flight per service",
}
# The plot docks: (plot name, unit, whether fault periods are labelled on it). A plot is built when
# a run (or the user) first shows it: five pyqtgraph plots are half of an editing window's start.
PLOT_DOCKS = {
    "Throughput": ("throughput", "msg/s", True),
    "Latency": ("latency", "ms", False),
    "Waiting": ("waiting", "messages", True),
    "Errors": ("errors", "count", False),
    "In flight": ("in flight", "calls", True),
}
MAX_LATENCY_NODES = 3
CLIENT_COLOURS = ("#1c7ed6", "#e8590c", "#2f9e44", "#7048e8")
BACKLOG_COLOURS = ("#e03131", "#ae3ec9", "#f08c00", "#0c8599")


def latency_sources(topology: Topology) -> list[str]:
    """Whose latency to plot: clients that hear back (round trips), else the services they feed."""
    services = {s.name for s in topology.services()}

    def targets(name: str) -> list[str]:
        return [link.target for link in topology.links if link.source == name]

    out: list[str] = []
    for client in topology.clients():
        if transports.acknowledges(client.transport.value, client.style.value, client.model_dump(mode="json")):
            out.append(client.name)
            continue
        for target in targets(client.name):  # direct, or through a broker
            out.extend(t for t in ([target] if target in services else targets(target)) if t in services)
    return list(dict.fromkeys(out))[:MAX_LATENCY_NODES]


class _PlotDock:
    """`dashboard.rate_plot` and its like: the live plot of one of PLOT_DOCKS, built on first use."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __get__(self, dashboard: Dashboard, owner: type | None = None) -> LivePlot:
        return dashboard.plot(self.key)


class Dashboard:
    """Owns the run docks of one window."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self.counters = CountersPanel()
        self.events = EventLogPanel()
        self.node_log = NodeLogPanel()
        self.result = ResultPanel()
        self._plots: dict[str, LivePlot] = {}
        self.docks: dict[str, QDockWidget] = {}
        for key, widget in (("Counters", self.counters), ("Events", self.events),
                            ("Node log", self.node_log), ("Result", self.result),
                            *((key, QWidget()) for key in PLOT_DOCKS)):
            self.docks[key] = self._dock(key, widget)
            self.docks[key].setWindowTitle(DOCK_TITLES.get(key, key))
        for key in PLOT_DOCKS:  # shown from the menu before any run: the empty plot, not a blank
            self.docks[key].visibilityChanged.connect(partial(self._visibility, key))
        self._laid_out = False
        self._latency: list[str] = []
        self._callers: list[str] = []
        self._sampler: LiveSampler | None = None  # the last one drawn from (a hidden plot shown later)
        self._stale: set[LivePlot] = set()  # plots not redrawn from it while hidden

    def plot(self, key: str) -> LivePlot:
        """The live plot of dock `key` (of PLOT_DOCKS), built into its dock on first use."""
        found = self._plots.get(key)
        if found is None:
            name, unit, label_faults = PLOT_DOCKS[key]
            found = self._plots[key] = LivePlot(name, unit)
            found.label_faults = label_faults
            placeholder = self.docks[key].widget()
            self.docks[key].setWidget(found)
            if placeholder is not None:
                placeholder.deleteLater()
        return found

    rate_plot = _PlotDock("Throughput")
    latency_plot = _PlotDock("Latency")
    queue_plot = _PlotDock("Waiting")
    error_plot = _PlotDock("Errors")
    in_flight_plot = _PlotDock("In flight")

    @property
    def plots(self) -> list[LivePlot]:
        """Every live plot (built if need be)."""
        return [self.plot(key) for key in PLOT_DOCKS]

    def _dock(self, key: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(key, self.window)
        dock.setObjectName(f"runDock{key.replace(' ', '')}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.hide()
        return dock

    def lay_out(self) -> None:
        """Place the docks the first time; later runs keep what the user arranged."""
        d, w = self.docks, self.window
        size = w.size()  # docks would grow the window to their size hints; keep the user's size
        if not self._laid_out:
            self._laid_out = True
            right, bottom = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
            w.addDockWidget(right, d["Counters"])
            w.addDockWidget(right, d["Events"])
            w.tabifyDockWidget(d["Events"], d["Node log"])
            w.tabifyDockWidget(d["Node log"], d["Result"])
            w.addDockWidget(bottom, d["Throughput"])
            w.splitDockWidget(d["Throughput"], d["Waiting"], Qt.Orientation.Horizontal)
            w.splitDockWidget(d["Waiting"], d["Latency"], Qt.Orientation.Horizontal)
            w.splitDockWidget(d["Latency"], d["Errors"], Qt.Orientation.Horizontal)
            w.tabifyDockWidget(d["Waiting"], d["In flight"])
            for dock in d.values():
                dock.show()
            w.resize(size)
            w.resizeDocks([d["Counters"]], [330], Qt.Orientation.Horizontal)
            w.resizeDocks([d["Counters"], d["Events"]], [250, 300], Qt.Orientation.Vertical)
            w.resizeDocks([d["Throughput"]], [230], Qt.Orientation.Vertical)
            w.resizeDocks([d["Throughput"], d["Waiting"], d["Latency"], d["Errors"]],
                          [290, 250, 180, 180], Qt.Orientation.Horizontal)
        else:
            for key in ("Counters", "Events", "Throughput", "Waiting", "Latency", "Errors", "In flight"):
                d[key].show()
        d["Events"].raise_()
        (d["In flight"] if self._callers else d["Waiting"]).raise_()  # a chain's pile-up first
        w.resize(size)

    # -- a run begins and ends ---------------------------------------------------------------------
    def begin(self, sup: Any) -> None:
        self.counters.clear()
        self.events.clear()
        for plot in self.plots:
            plot.clear_all()
        self._sampler, self._stale = None, set()
        self.node_log.clock = lambda: wall_origin(sup)  # node logs on the run clock
        self.node_log.set_run(sup.run_dir, {n.name: n.kind.value for n in sup.topology.nodes})
        self.result.show_running(sup.run_dir)
        self._latency = latency_sources(sup.topology)
        self._callers = sorted({h.source for h in chains.hops(sup.topology) if h.call})
        self.lay_out()

    def show_result(self, summary: dict[str, Any] | None, error: str | None) -> None:
        if summary is not None:
            self.counters.show_values(summary["total"], final=True)
            self.result.show_summary(summary)
        if error is not None:
            self.result.show_failure(error)
        self.docks["Result"].show()
        self.docks["Result"].raise_()

    # -- redrawing ---------------------------------------------------------------------------------------
    def update(self, sampler: LiveSampler, ledger: dict[str, Any] | None,
               plots: list[LivePlot] | None = None) -> None:
        """The counters, and `plots` (all of them by default) from the sampler's buffers."""
        split = None
        if ledger:
            queued = sum(sum(sampler.nodes[b].queues.values()) for b in sampler.brokers)
            split = live.pending(ledger["total"], int(ledger.get("dropped", {}).get("total", 0)), queued)
        totals = None
        if ledger:  # sent from the telemetry the canvas shows, so tiles and canvas agree
            totals = {**ledger["total"], "sent": max(sampler.totals_sent(), int(ledger["total"].get("sent", 0)))}
        self.counters.show_values(totals, final=False, pending=split)
        self.redraw_plots(sampler, plots)

    def plot_halves(self) -> tuple[list[LivePlot], list[LivePlot]]:
        """The plots in two groups the run view redraws on different ticks: five plots and their
        repaint in one frame held the window longer than a frame."""
        return [self.rate_plot, self.latency_plot], [self.queue_plot, self.error_plot, self.in_flight_plot]

    def redraw_plots(self, sampler: LiveSampler, plots: list[LivePlot] | None = None) -> None:
        """`plots` (all by default) that the user can see; one in a hidden tab or a closed dock
        is redrawn when it is shown (from the last sampler), and every one at the end."""
        self._sampler = sampler
        final = getattr(sampler.sup, "ended_at", None) is not None
        wanted = self.plots if plots is None else plots
        due = {p for p in wanted if final or p.isVisible()}
        self._stale.update(p for p in wanted if p not in due)
        self._stale.difference_update(due)
        if not due:
            return
        now = sampler.run_clock() or 0.0
        ring = sampler.ring
        t = ring.times()
        if self.rate_plot in due:
            self._rates(sampler, t)
        if self.latency_plot in due:
            for i, node in enumerate(self._latency):
                colour = CLIENT_COLOURS[i % len(CLIENT_COLOURS)]
                for column, dashed in (("p50_latency_ms", True), ("p99_latency_ms", False)):
                    lt, lv = sampler.latency_series(node, column)
                    self.latency_plot.set_line(f"{node} {column[:3]}", lt, lv, colour=colour, dashed=dashed)
        if self.queue_plot in due:
            series = sampler.queue_series()
            for name, (qt, qv) in series.items():
                self.queue_plot.set_line(f"queue {name}", qt, qv)
            for i, name in enumerate(sampler.clients[:MAX_LINK_CURVES]):
                if sampler.client_models[name].rate > 0:
                    self.queue_plot.set_line(f"{name} backlog", t, ring.column(sampler.col_backlog[name]),
                                             colour=BACKLOG_COLOURS[i % len(BACKLOG_COLOURS)], width=2.2)
        if self.in_flight_plot in due:
            for i, name in enumerate(sampler.callers):
                self.in_flight_plot.set_line(name, t, ring.column(sampler.col_in_flight[name]),
                                             colour=CLIENT_COLOURS[i % len(CLIENT_COLOURS)])
            if not sampler.callers:
                self.in_flight_plot.set_empty_text("no service calls another in this topology")
        if self.error_plot in due:
            self.error_plot.set_line("errors", t, ring.column(sampler.col_errors), colour="#e03131")
            self.error_plot.set_line("timeouts", t, ring.column(sampler.col_timeouts), colour="#e67700")
        periods = sampler.periods()
        for plot in wanted:
            if plot in due:
                plot.set_periods(periods)
                plot.set_span(now)

    def _visibility(self, key: str, shown: bool) -> None:
        """A plot dock came into view: build its plot, and bring it up to date if a run drew
        the others while it was hidden."""
        if not shown:
            return
        plot = self.plot(key)
        if plot in self._stale and self._sampler is not None:
            self.redraw_plots(self._sampler, [plot])

    def _rates(self, sampler: LiveSampler, t: np.ndarray) -> None:
        ring, links = sampler.ring, sampler.links
        shown = links if len(links) <= MAX_LINK_CURVES else links[:MAX_LINK_CURVES - 1]
        rate_t = t - RATE_LAG_S  # each rate at the middle of its window: on the faults' clock
        for key in shown:
            self.rate_plot.set_line(key, rate_t, ring.column(sampler.col_rate[key]))
        if len(shown) < len(links):
            rest = [sampler.col_rate[k] for k in links[len(shown):]]
            total = np.nansum(np.stack([ring.column(c) for c in rest]), axis=0) if len(t) else t
            self.rate_plot.set_line(f"{len(rest)} more links (sum)", rate_t, total, colour="#868e96")
