"""Run mode: Run/Stop, the live canvas and dashboard, faults by hand from the context menu.

The run itself happens on worker threads (labgui.run.session: the same
Supervisor as `labgui run`); this controller only starts it, asks it to stop,
and polls thread-safe readers on ONE QTimer: it moves the link dashes, samples
the run 5 times a second and redraws the canvas figures, counters and plots
from preallocated buffers, each on its own tick (labgui.run.frames). Nothing
here waits on a process or a socket.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import cast

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QStyle

from engines.runtime import new_run_dir
from engines.topology.problems import Severity
from labgui.canvas.link_item import LinkItem
from labgui.canvas.node_item import NodeItem
from labgui.editor import dialogs
from labgui.run import broker_internals, explain_view, frames, interpreter, trace_view
from labgui.run.boot_bar import BootBar
from labgui.run.canvas import RunCanvas
from labgui.run.dashboard import Dashboard
from labgui.run.host import RunHost
from labgui.run.live_data import LiveSampler
from labgui.run.live_ledger import LiveLedger
from labgui.run.menus import link_menu, node_menu
from labgui.run.plots import LivePlot
from labgui.run.result_panel import short
from labgui.run.session import ENDED, FAILED, FINISHING, RUNNING, STARTING, RunSession

LOCK_TEXT = "Running: editing is locked (Shift+F5 stops)"
class RunController(QObject):
    """Owns the Run/Stop actions, the run's session, its timer and its dashboard docks."""

    phase_changed = Signal(str)

    def __init__(self, window: RunHost) -> None:
        qwindow = cast(QMainWindow, window)  # the host is a main window with the editor's parts
        super().__init__(qwindow)
        self.window = window
        self.qwindow = qwindow
        self.session: RunSession | None = None
        self.sampler: LiveSampler | None = None
        self.ledger: LiveLedger | None = None
        self.run_root: Path | None = None  # where run folders go; None: the user data directory
        self.canvas = RunCanvas(window.scene)
        self.dashboard = Dashboard(qwindow)
        self.timer = QTimer(self)
        self.timer.setInterval(frames.TICK_MS)
        self.timer.timeout.connect(self._tick)
        self._ticks = 0
        self._last_tick = self._last_animation = time.monotonic()
        self._last_log = 0.0
        self._phase: str | None = None
        self._fitted = False
        self._sampled = False
        self._switch_interval = sys.getswitchinterval()
        self._editor_docks: list[QDockWidget] = []
        self._runs = 0
        self._quit_when_done = False  # the window asked to close after an orderly stop
        self._actions()
        self.status = QLabel("")
        self.status.setContentsMargins(8, 0, 8, 0)
        self.boot_bar = BootBar()  # a broker booting: how far, against the last boot measured
        window.statusBar().addPermanentWidget(self.boot_bar)
        window.statusBar().addPermanentWidget(self.status)
        window.doc.edited.connect(self._edited)
        for part in (trace_view, explain_view, broker_internals):  # message IDs; why; broker inside
            part.attach(self)

    def _edited(self) -> None:
        """The first edit after a run: the canvas drops the run's figures, the editor comes back."""
        if not self.active and self.session is not None:
            self.canvas.clear()
            self.back_to_editing()

    def _actions(self) -> None:
        w, sp = self.window, QStyle.StandardPixmap
        self.run_action = QAction(w.style().standardIcon(sp.SP_MediaPlay), "&Run", self.qwindow)
        self.run_action.setShortcut(QKeySequence("F5"))
        self.run_action.setToolTip("Run the topology as real processes (F5)")
        self.stop_action = QAction(w.style().standardIcon(sp.SP_MediaStop), "S&top", self.qwindow)
        self.stop_action.setShortcut(QKeySequence("Shift+F5"))
        self.stop_action.setToolTip("Stop the run in order: clients, then services, then brokers "
                                    "(Shift+F5; press again to kill everything at once)")
        self.stop_action.setEnabled(False)
        for action in (self.run_action, self.stop_action):
            self.qwindow.addAction(action)
        self.edit_action = QAction("&Back to editing", self.qwindow)
        self.edit_action.setShortcut(QKeySequence("Ctrl+E"))
        self.edit_action.setToolTip("Bring back the palette, inspector and problems; the run's docks go "
                                    "(Ctrl+E; any edit does it too)")
        self.edit_action.setEnabled(False)
        self.qwindow.addAction(self.edit_action)
        self.edit_action.triggered.connect(self.back_to_editing)
        self.run_action.triggered.connect(self.run)
        self.stop_action.triggered.connect(self.stop)
        # Run and Stop first: at 1024 px the toolbar's end overflows, and they must never hide there
        first = w.toolbar.actions()[0] if w.toolbar.actions() else None
        w.toolbar.insertActions(first, [self.run_action, self.stop_action])  # type: ignore[arg-type]
        w.toolbar.insertSeparator(first)  # type: ignore[arg-type]
        menu = w.menuBar().insertMenu(w.menuBar().actions()[-1], QMenu("&Run", self.qwindow)).menu()
        assert menu is not None
        assert isinstance(menu, QMenu)
        menu.addActions([self.run_action, self.stop_action, self.edit_action])
        menu.addSeparator()
        self.link_faults_action = QAction("Link &faults by hand", self.qwindow)
        self.link_faults_action.setCheckable(True)
        # On by default: any link can be cut, healed, delayed at any time of any run. The proxies
        # copy every byte in the lab's process (bench/ measures the cost); pika's getpeername
        # ValueError behind a proxy is a failed attempt now (engines/transports/amqp_session.py).
        self.link_faults_action.setChecked(True)
        self.link_faults_action.setToolTip("Every link of the next run goes through a fault proxy, so any "
                                           "link can be cut or slowed from its menu; off: links go direct "
                                           "(the proxies copy every byte in the lab's process)")
        menu.addAction(self.link_faults_action)
        panels = menu.addMenu("&Dashboard panels")
        for dock in self.dashboard.docks.values():
            panels.addAction(dock.toggleViewAction())

    # -- state ---------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """A run is starting, running or finishing: editing stays locked."""
        return self.session is not None and self.session.active

    @property
    def phase(self) -> str | None:
        """The run's phase as this view last showed it (it follows the session within a tick)."""
        return None if self.session is None else self._phase

    # -- Run and Stop ----------------------------------------------------------------------------
    def run(self) -> bool:
        """Start a run of the document as it is now, unless it has errors; False if refused."""
        if self.active:
            return False
        w = self.window
        w.doc.validate_now()
        errors = [p for p in w.doc.problems if p.severity is Severity.ERROR]
        if errors:
            w.problems_dock.show()
            w.problems_dock.raise_()
            w.problems.choose(0)
            listing = "\n".join(f"• {p}" for p in errors[:10])
            more = f"\n… and {len(errors) - 10} more" if len(errors) > 10 else ""
            dialogs.show_error(self.qwindow, "Cannot run", f"This topology has {len(errors)} error"
                               f"{'s' if len(errors) != 1 else ''}; fix them before running "
                               f"(they are in the Problems panel):\n\n{listing}{more}")
            return False
        topology = w.doc.topology.model_copy(deep=True)
        try:
            self._runs += 1
            out = None if self.run_root is None else self.run_root / f"{self._runs:03d}-{topology.name}"
            session = RunSession(topology, new_run_dir(topology.name, out),
                                 link_faults=self.link_faults_action.isChecked())
        except OSError as exc:
            dialogs.show_error(self.qwindow, "Cannot run", f"No run folder: {exc}")
            return False
        self.session = session
        self.sampler = LiveSampler(session.sup)
        self.ledger = LiveLedger(session.sup)
        self._phase = None
        self._fitted = False
        self.canvas.begin()
        self.dashboard.begin(session.sup)
        self._lock(True)
        QTimer.singleShot(0, w.view.fit_to_view)  # the canvas got smaller: show the whole topology
        self._switch_interval = interpreter.during_run()  # 1 ms switches, gc.freeze
        session.start()
        self.timer.start()
        # the phase now; the figures on the first tick (not fifty nodes laid out in this event)
        self._enter(session.phase)
        self.status.setText(self._status_text(session.phase))
        w.show_message(f"Starting '{topology.name}': brokers, then services, then clients…")
        return True

    def stop(self) -> None:
        """End the run in order; pressed again while it is ending, kill everything at once."""
        session = self.session
        if session is None or not session.active:
            return
        if session.stopping:
            session.abort()
            self.window.show_message("Killing every process of the run now…")
        else:
            session.stop()
            self.window.show_message("Stopping: clients, then services once they caught up, then brokers "
                                     "(Stop again to kill at once)")
        self._update_actions()

    def may_close(self) -> bool:
        """Closing mid-run asks: stop in order (the window closes once the run ended and its
        report is written), kill at once, or stay. False keeps the window open for now."""
        if not self.active or self._quit_when_done:
            return not self.active
        if self.session is not None and self.session.stopping:
            return True  # already ending (Stop, or a SIGTERM's ordered stop): nothing to ask
        answer = dialogs.ask_quit_during_run(self.qwindow)
        if answer == "kill":
            return True
        if answer == "stop":
            self._quit_when_done = True
            self.stop()
            self.window.show_message("Stopping the run in order; the window closes once its report is written")
        return False

    def shutdown(self, timeout_s: float = 20.0) -> None:
        """The window is closing: leave nothing running."""
        self.timer.stop()
        interpreter.after_run(self._switch_interval)
        if self.ledger is not None:
            self.ledger.join(2.0)
        if self.session is not None:
            self.session.cancel_report()
            if not self.session.closed.is_set():
                self.session.abort()
                self.session.join(timeout_s)

    def _lock(self, locked: bool) -> None:
        """Editing off (and the editor's panels out of the way) while a run is on. After it, the
        results keep the room until the user goes back to editing (`back_to_editing`)."""
        w = self.window
        size = w.size()
        w.set_editing_locked(locked, LOCK_TEXT)
        guide = getattr(w, "guide", None)
        editor_docks = (w.palette_dock, w.inspector_dock, w.problems_dock) + ((guide.dock,) if guide else ())
        if locked:
            if not self._editor_docks:
                self._editor_docks = [dock for dock in editor_docks if dock.isVisible()]
            for dock in editor_docks:
                dock.hide()
        self.edit_action.setEnabled(not locked and bool(self._editor_docks))
        for action in (w.editor_actions.new, w.editor_actions.open):
            action.setEnabled(not locked)
        w.examples_menu.setEnabled(not locked)
        w.recent_menu.setEnabled(not locked and w.has_recent_files())
        self._update_actions()
        self.qwindow.resize(size)

    def back_to_editing(self) -> None:
        """The editor's panels come back and the run's docks go (the Result stays a tab away)."""
        if self.active or not self._editor_docks:
            return
        w = self.window
        size = w.size()
        for dock in self.dashboard.docks.values():
            dock.hide()
        for dock in self._editor_docks:
            dock.show()
        self._editor_docks = []
        self.edit_action.setEnabled(False)
        self.qwindow.resize(size)
        QTimer.singleShot(0, w.view.fit_to_view)  # the panels are back: the canvas shrank

    def _update_actions(self) -> None:
        active = self.active
        self.run_action.setEnabled(not active)
        self.stop_action.setEnabled(active)
        stopping = self.session is not None and self.session.stopping and active
        self.stop_action.setText("Kill all now" if stopping else "S&top")

    # -- the timer -----------------------------------------------------------------------------------
    def _tick(self) -> None:
        now = time.monotonic()
        self._last_tick = now
        session = self.session
        if session is None:
            self.timer.stop()
            return
        phase = session.phase
        if phase != self._phase:
            self._enter(phase)
        if phase in (ENDED, FAILED):  # the timer only waits for the report now
            if session.done.is_set():
                self.timer.stop()
                self.dashboard.result.show_report(False, session.report_error)
                if self._quit_when_done:  # asked to quit after an orderly stop: now it may
                    self._quit_when_done = False
                    QTimer.singleShot(0, self.qwindow.close)
            return
        self._ticks += 1
        if self.sampler is None:
            return
        work = frames.jobs(self._ticks, phase == RUNNING)
        if frames.DASHES in work:
            self.canvas.animate(self.sampler, now - self._last_animation)
            self._last_animation = now
        if frames.SAMPLE in work:
            self._sampled = self.sampler.sample()
            self.dashboard.events.add_events(self.sampler.take_events(), self.sampler.shift())
        if frames.LATER_PLOTS in work and self._sampled:
            self.dashboard.redraw_plots(self.sampler, self.dashboard.plot_halves()[1])
        if frames.CANVAS in work:
            self._show_canvas()
        if frames.COUNTERS in work and self._sampled:
            self._show_dashboard(self.dashboard.plot_halves()[0])
        self.status.setText(self._status_text(phase))

    def _refresh(self, final: bool = False) -> None:
        """Sample and redraw everything at once (the last picture of a run)."""
        assert self.sampler is not None and self.session is not None
        self._sampled = self.sampler.sample(final)
        self.dashboard.events.add_events(self.sampler.take_events(), self.sampler.shift())
        self._show_canvas()
        if self._sampled:
            self._show_dashboard()

    def _show_canvas(self) -> None:
        assert self.sampler is not None
        self.canvas.show(self.sampler, self.ledger.latest if self.ledger is not None else None)

    def _show_dashboard(self, plots: list[LivePlot] | None = None) -> None:
        """The counters and `plots` (all by default), the canvas fitted, the node log."""
        assert self.sampler is not None
        self.dashboard.update(self.sampler, self.ledger.latest if self.ledger is not None else None, plots)
        view = self.window.view
        if not self._fitted or (view.auto_fit and not view.shows_all()):  # figures grew: show them whole
            self._fitted = True
            view.fit_to_view()
        now = time.monotonic()
        if self.dashboard.docks["Node log"].isVisible() and now - self._last_log >= 1.0:
            self._last_log = now
            self.dashboard.node_log.refresh()

    def _enter(self, phase: str) -> None:
        self._phase = phase
        session = self.session
        assert session is not None and self.sampler is not None
        if phase == RUNNING and self.ledger is not None:
            self.ledger.start()
        if phase in (ENDED, FAILED):
            interpreter.after_run(self._switch_interval)
            if self.ledger is not None:  # its helper goes in the background, killed if it lingers
                threading.Thread(target=self.ledger.join, name="gui-ledger-end", daemon=True).start()
            self._refresh(final=True)
            if session.summary is not None:  # the last picture: each node's final figures
                self.canvas.show(self.sampler, session.summary, final=True)
            self.canvas.freeze()
            self.dashboard.show_result(session.summary, session.error)
            self.dashboard.result.show_report(not session.done.is_set() and phase == ENDED)
            self._lock(False)
            self.status.setText(self._status_text(phase))
            if phase == FAILED:
                dialogs.show_error(self.qwindow, "Cannot run", short(session.error or "the run failed"))
            else:
                self.window.show_message("Run ended: the counters now show the ledger's final summary")
        self._update_actions()
        self.phase_changed.emit(phase)

    def _status_text(self, phase: str) -> str:
        session = self.session
        if session is None:
            return ""
        boot = self.boot_bar.follow(self.sampler, self.active)
        if boot:
            return f"● {boot}"
        clock = f"{session.now():.1f} s"
        return {STARTING: "● starting…", RUNNING: f"● running {clock}", FINISHING: f"◐ finishing {clock}",
                ENDED: f"■ ended at {clock}", FAILED: "✖ could not run"}.get(phase, "")

    # -- faults by hand ---------------------------------------------------------------------------------
    def context_menu(self, item: object, menu: QMenu) -> QMenu:
        """The right-click menu while a run is on: node control, link faults, Stop."""
        menu.setToolTipsVisible(True)
        running = self.session is not None and self.session.phase == RUNNING
        if isinstance(item, NodeItem):
            node_menu(self, item, menu, running)
        elif isinstance(item, LinkItem):
            link_menu(self, item, menu, running)
        else:
            menu.addAction(self.stop_action)
            menu.addAction(self.window.editor_actions.fit)
        return menu

    def act_on_link(self, action: str, link: str, latency_ms: float = 0.0) -> None:
        if self.session is None or self.session.phase != RUNNING:
            return
        self.session.act_on_link(action, link, latency_ms)
        self.window.show_message(f"{action} {link}: on the run's timeline")

    def act(self, action: str, node: str) -> None:
        if self.session is None or self.session.phase != RUNNING:
            return
        self.session.act(action, node)
        self.window.show_message(f"{action} {node}: on the run's timeline")

    def show_log(self, node: str) -> None:
        dock = self.dashboard.docks["Node log"]
        dock.show()
        dock.raise_()
        self.dashboard.node_log.show_node(node)
