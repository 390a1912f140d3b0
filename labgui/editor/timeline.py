"""The scenario timeline: one track per node and link, a block per step, a playhead during a run.

Editing goes through the document's undo stack like every edit (the whole
scenario is replaced by one ChangeTopologyCommand per gesture):

- add: `add_step(action, target, at_s)`, or a double-click on a track, which
  offers the actions that apply to it (node: kill, stop, start, restart,
  pause, resume; link: cut, heal, delay, lossy);
- move: drag a block along its track (on release, one undo step);
- delete: select a block and press Delete;
- edit: a double-click on a block opens its fields (time or message count, a
  delay's latency and jitter, a lossy link's loss: labgui.editor.step_editor);
  `set_step(index, **fields)` does the same from code.

During a run, `set_playhead(t)` draws the run clock over the tracks. A step
given as `after_messages` is placed where the clients' rates put that message
(engines.topology.scenario_times), hatched with a dashed edge and labelled with
its count; dragging it changes the count. Without an estimate (a client at rate
0) it waits at the right end.
"""

from __future__ import annotations

import functools
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QMenu, QToolTip, QWidget

from engines.topology.model import Action, Step
from engines.topology.scenario_times import messages_at, time_of_message
from labgui.document import commands
from labgui.document.document import TopologyDocument
from labgui.editor.step_editor import StepEditor

NODE_ACTIONS = (Action.KILL, Action.STOP, Action.START, Action.RESTART, Action.PAUSE, Action.RESUME)
LINK_ACTIONS = (Action.CUT, Action.HEAL, Action.DELAY, Action.LOSSY)
COLOURS = {"kill": "#e03131", "stop": "#868e96", "start": "#2b8a3e", "restart": "#1c7ed6",
           "pause": "#f59f00", "resume": "#37b24d", "cut": "#9c36b5", "heal": "#2b8a3e",
           "delay": "#ae3ec9", "lossy": "#ae3ec9", "reread": "#0c8599"}
LABEL_W, TRACK_H, BLOCK_W = 130, 22, 46
RULER_H = 18  # the seconds ruler along the top: always in view, however many tracks scroll


class ScenarioTimeline(QWidget):
    changed = Signal()

    def __init__(self, doc: TopologyDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scenarioTimeline")
        self.doc = doc
        self.span_s = 20.0
        self.playhead: float | None = None
        self.selected: int | None = None
        self._drag: tuple[int, float] | None = None  # (step index, press x)
        self._grab = 0.0  # where in the block it was grabbed
        self._drag_t: float | None = None
        self.editor: StepEditor | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._fit_height()
        doc.edited.connect(self._fit_height)
        doc.topology_replaced.connect(self._fit_height)

    def _fit_height(self) -> None:
        self.setMinimumHeight(RULER_H + 4 + TRACK_H * max(1, len(self.tracks())))
        self.update()

    # -- geometry --------------------------------------------------------------------------
    def tracks(self) -> list[tuple[str, bool]]:
        """(target, is a link) for every node and link, in the topology's order."""
        topo = self.doc.topology
        return [(n.name, False) for n in topo.nodes] + [(lk.key, True) for lk in topo.links]

    def step_time(self, step: Step) -> float | None:
        """Where a step happens on the run clock: its time, or the estimate for its count."""
        if step.at_s is not None:
            return step.at_s
        assert step.after_messages is not None
        return time_of_message(self.doc.topology, step.after_messages)

    def label(self, step: Step) -> str:
        text = step.action.value
        if step.action is Action.DELAY:
            text += f" +{step.latency_ms:g} ms"
        elif step.action is Action.LOSSY:
            text += f" {step.loss * 100:g} %"
        if step.after_messages is not None:
            text += f" @{step.after_messages:,}"
        return text

    def describe(self, step: Step) -> str:
        when = f"at {step.at_s:g} s" if step.at_s is not None else f"after {step.after_messages:,} messages sent"
        t = self.step_time(step)
        if step.at_s is None:
            when += (f" (about {t:.1f} s at the clients' rates)" if t is not None
                     else " (no estimate: a client sends as fast as it can)")
        return f"{self.label(step).split(' @')[0]} {step.target} {when} — double-click to edit"

    def _span(self) -> float:
        times = [t for s in self.doc.topology.scenario if (t := self.step_time(s)) is not None]
        return max([self.span_s, (self.doc.topology.duration_s or 0), *(t * 1.2 for t in times),
                    (self.playhead or 0) * 1.1])

    def x_of(self, t: float) -> float:
        return LABEL_W + (self.width() - LABEL_W - 10) * t / self._span()

    def t_of(self, x: float) -> float:
        return max(0.0, (x - LABEL_W) * self._span() / max(1.0, self.width() - LABEL_W - 10))

    def block_rect(self, index: int) -> QRectF:
        step = self.doc.topology.scenario[index]
        row = next((i for i, (name, _) in enumerate(self.tracks()) if name == step.target), 0)
        dragged = self._drag and self._drag[0] == index and self._drag_t is not None
        t = self._drag_t if dragged else self.step_time(step)
        width = max(BLOCK_W, self.fontMetrics().horizontalAdvance(self.shown_label(index, t)) + 12)
        x = self.x_of(t) if t is not None else self.width() - width - 10
        return QRectF(x, RULER_H + 2 + row * TRACK_H, width, TRACK_H - 4)

    def shown_label(self, index: int, t: float | None = None) -> str:
        """The block's text: the whole label, or only the count when the next block on its track
        leaves no room (the tooltip and the editor still say everything)."""
        scenario = self.doc.topology.scenario
        step = scenario[index]
        full = self.label(step)
        t = self.step_time(step) if t is None else t
        if step.after_messages is None or t is None:
            return full
        later = [u for j, s in enumerate(scenario) if j != index and s.target == step.target
                 and (u := self.step_time(s)) is not None and u > t]
        room = self.x_of(min(later)) - self.x_of(t) - 2 if later else float("inf")
        return full if self.fontMetrics().horizontalAdvance(full) + 12 <= room else f"@{step.after_messages:,}"

    def sizeHint(self) -> Any:  # noqa: N802 - Qt's name
        size = super().sizeHint()
        size.setHeight(RULER_H + 4 + TRACK_H * max(1, len(self.tracks())))
        return size

    # -- editing (undoable) ----------------------------------------------------------------------
    def _replace(self, steps: list[Step], text: str) -> None:
        value = commands.topology_with(self.doc.topology, "scenario", [s.model_dump() for s in steps])
        commands.push(self.doc, commands.ChangeTopologyCommand(self.doc, "scenario", value))
        self.changed.emit()

    def add_step(self, action: Action, target: str, at_s: float) -> None:
        extra: dict[str, Any] = {"latency_ms": 200.0} if action is Action.DELAY else (
            {"loss": 0.1} if action is Action.LOSSY else {})
        steps = [*self.doc.topology.scenario, Step(action=action, target=target, at_s=round(at_s, 1), **extra)]
        self._replace(steps, f"Add {action.value} {target}")

    def set_step(self, index: int, **fields: Any) -> None:
        steps = list(self.doc.topology.scenario)
        steps[index] = steps[index].model_copy(update=fields)
        self._replace(steps, "Edit step")

    def delete_step(self, index: int) -> None:
        steps = [s for i, s in enumerate(self.doc.topology.scenario) if i != index]
        self.selected = None
        self._replace(steps, "Delete step")

    def set_playhead(self, t: float | None) -> None:
        """Move the playhead, repainting only the strip it crossed (and nothing while it moves
        less than a pixel): during a run this is called ten times a second."""
        old, span = self.playhead, self._span()
        if t == old:
            return
        if t is None or old is None:
            self.playhead = t
            self.update()
            return
        x0 = self.x_of(old)
        self.playhead = t
        if self._span() != span:  # the scale moved: everything moves
            self.update()
            return
        x1 = self.x_of(t)
        if abs(x1 - x0) < 1.0:
            self.playhead = old  # still drawn where it was: move it once it crosses a pixel
            return
        left = int(min(x0, x1)) - 3
        self.update(left, 0, int(abs(x1 - x0)) + 8, self.height())

    # -- input -------------------------------------------------------------------------------------
    def _hit(self, pos: QPointF) -> int | None:
        for i in reversed(range(len(self.doc.topology.scenario))):
            if self.block_rect(i).contains(pos):
                return i
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        hit = self._hit(event.position())
        self.selected = hit
        if hit is not None and not self.doc.locked:
            self._drag = (hit, event.position().x())
            self._grab = event.position().x() - self.block_rect(hit).x()
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag is not None:
            self._drag_t = self.t_of(event.position().x() - self._grab)
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        drag, t = self._drag, self._drag_t
        self._drag = self._drag_t = None
        if drag is not None and t is not None and abs(event.position().x() - drag[1]) > 2:
            step = self.doc.topology.scenario[drag[0]]
            count = messages_at(self.doc.topology, t) if step.after_messages is not None else None
            if count is not None:  # a count step stays one: the count at the new place
                self.set_step(drag[0], after_messages=count)
            else:
                self.set_step(drag[0], at_s=round(t, 1), after_messages=None)
        self.update()

    def edit_block(self, index: int) -> StepEditor:
        """Open the fields of step `index` beside its block (Apply is one undo step)."""
        self.selected = index
        editor = StepEditor(self.doc.topology.scenario[index],
                            functools.partial(self.set_step, index), self)
        editor.show_at(self.mapToGlobal(self.block_rect(index).bottomLeft().toPoint()))
        self.editor = editor
        return editor

    def event(self, event: Any) -> bool:
        if event.type() == event.Type.ToolTip:
            hit = self._hit(QPointF(event.pos()))
            if hit is not None:
                QToolTip.showText(event.globalPos(), self.describe(self.doc.topology.scenario[hit]), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        hit = self._hit(event.position())
        if hit is not None and not self.doc.locked:
            self.edit_block(hit)
            return
        row = int((event.position().y() - RULER_H) // TRACK_H)
        tracks = self.tracks()
        if self.doc.locked or not 0 <= row < len(tracks) or event.position().x() < LABEL_W:
            return
        target, is_link = tracks[row]
        menu = QMenu(self)
        t = self.t_of(event.position().x())
        for action in (LINK_ACTIONS if is_link else NODE_ACTIONS):
            menu.addAction(f"{action.value} {target} at {t:.1f} s",
                           functools.partial(self.add_step, action, target, t))
        menu.exec(event.globalPosition().toPoint())

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selected is not None \
                and not self.doc.locked:
            self.delete_step(self.selected)
            return
        super().keyPressEvent(event)

    # -- drawing -------------------------------------------------------------------------------------
    def paintEvent(self, event: Any) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("white"))
        for row, (name, is_link) in enumerate(self.tracks()):
            y = RULER_H + row * TRACK_H
            if row % 2:
                p.fillRect(QRectF(0, y, self.width(), TRACK_H), QColor("#f8f9fa"))
            p.setPen(QColor("#495057" if not is_link else "#862e9c"))
            p.drawText(QRectF(6, y, LABEL_W - 10, TRACK_H), Qt.AlignmentFlag.AlignVCenter, name)
        span, step_s = self._span(), 5.0
        while span / step_s > 12:
            step_s *= 2
        p.setPen(QColor("#dee2e6"))
        tick = 0.0
        while tick <= span:  # a faint second grid, labelled in the ruler along the top
            x = self.x_of(tick)
            p.drawLine(QPointF(x, RULER_H - 4), QPointF(x, self.height()))
            p.setPen(QColor("#868e96"))
            p.drawText(QPointF(x + 3, RULER_H - 5), f"{tick:g} s")
            p.setPen(QColor("#dee2e6"))
            tick += step_s
        for i, step in enumerate(self.doc.topology.scenario):
            rect = self.block_rect(i)
            colour = QColor(COLOURS.get(step.action.value, "#868e96"))
            counted = step.at_s is None
            if counted:  # placed by estimate: pale, hatched, a dashed edge, the count written on it
                p.setBrush(QBrush(colour.lighter(185)))
                p.setPen(Qt.PenStyle.NoPen)
                p.drawRoundedRect(rect, 4, 4)
                p.setBrush(QBrush(colour.lighter(140), Qt.BrushStyle.BDiagPattern))
                edge = QPen(colour.darker(120), 1.5, Qt.PenStyle.DashLine)
            else:
                p.setBrush(QBrush(colour))
                edge = QPen(Qt.PenStyle.NoPen)
            p.setPen(QPen(QColor("#212529"), 2) if i == self.selected else edge)
            p.drawRoundedRect(rect, 4, 4)
            p.setPen(colour.darker(170) if counted else QColor("white"))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.shown_label(i))
        if self.playhead is not None:
            x = self.x_of(self.playhead)
            p.setPen(QPen(QColor("#e03131"), 2))
            p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        p.end()


def install(window: Any) -> ScenarioTimeline:
    """A 'Scenario' dock below the canvas; during a run its playhead follows the run clock."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QDockWidget, QScrollArea

    timeline = ScenarioTimeline(window.doc)
    dock = QDockWidget("Scenario timeline", window)
    dock.setObjectName("dockScenario")
    scroll = QScrollArea()  # many tracks scroll instead of being cut
    scroll.setWidgetResizable(True)
    scroll.setWidget(timeline)
    dock.setWidget(scroll)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                     | QDockWidget.DockWidgetFeature.DockWidgetClosable)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    window.tabifyDockWidget(window.problems_dock, dock)
    window.problems_dock.raise_()
    timer = QTimer(timeline)
    timer.setInterval(100)

    placed = [False]

    def follow() -> None:
        session = getattr(window.run_mode, "session", None)
        running = session is not None and bool(session.sup.started_at)
        timeline.set_playhead(session.now() if running and session is not None else None)
        if running and window.run_mode.active and dock.isVisible() and not placed[0]:
            # The run's plots split the bottom area: the timeline would be a sliver beside them.
            # It gets its own row under them, the window's whole width, once.
            placed[0] = True
            window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock, Qt.Orientation.Vertical)
            dock.show()
            plots = [d for d in window.findChildren(QDockWidget) if d.objectName() == "runDockThroughput"]
            window.resizeDocks([*plots, dock], [220, min(140, RULER_H + 28 + TRACK_H * len(timeline.tracks()))][-1 - len(plots):],
                               Qt.Orientation.Vertical)  # the plots keep their height, the canvas the rest

    timer.timeout.connect(follow)
    timer.start()
    timeline.dock = dock  # type: ignore[attr-defined]
    return timeline
