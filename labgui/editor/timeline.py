"""The scenario timeline: one track per node and link, a block per step, a playhead during a run.

Editing goes through the document's undo stack like every edit (the whole
scenario is replaced by one ChangeTopologyCommand per gesture):

- add: `add_step(action, target, at_s)`, or a double-click on a track, which
  offers the actions that apply to it (node: kill, stop, start, restart,
  pause, resume; link: cut, heal, delay, lossy);
- move: drag a block along its track (on release, one undo step);
- delete: select a block and press Delete;
- edit: `set_step(index, **fields)` (the time, latency, loss).

During a run, `set_playhead(t)` draws the run clock over the tracks. Steps
given `after_messages` instead of a time are drawn at the right end, hatched.
"""

from __future__ import annotations

import functools
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QMenu, QWidget

from engines.topology.model import Action, Step
from labgui.document import commands
from labgui.document.document import TopologyDocument

NODE_ACTIONS = (Action.KILL, Action.STOP, Action.START, Action.RESTART, Action.PAUSE, Action.RESUME)
LINK_ACTIONS = (Action.CUT, Action.HEAL, Action.DELAY, Action.LOSSY)
COLOURS = {"kill": "#e03131", "stop": "#868e96", "start": "#2b8a3e", "restart": "#1c7ed6",
           "pause": "#f59f00", "resume": "#37b24d", "cut": "#9c36b5", "heal": "#2b8a3e",
           "delay": "#ae3ec9", "lossy": "#ae3ec9", "reread": "#0c8599"}
LABEL_W, TRACK_H, BLOCK_W = 130, 22, 46


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
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._fit_height()
        doc.edited.connect(self._fit_height)
        doc.topology_replaced.connect(self._fit_height)

    def _fit_height(self) -> None:
        self.setMinimumHeight(20 + TRACK_H * max(1, len(self.tracks())))
        self.update()

    # -- geometry --------------------------------------------------------------------------
    def tracks(self) -> list[tuple[str, bool]]:
        """(target, is a link) for every node and link, in the topology's order."""
        topo = self.doc.topology
        return [(n.name, False) for n in topo.nodes] + [(lk.key, True) for lk in topo.links]

    def _span(self) -> float:
        times = [s.at_s for s in self.doc.topology.scenario if s.at_s is not None]
        return max([self.span_s, (self.doc.topology.duration_s or 0), *(t * 1.2 for t in times),
                    (self.playhead or 0) * 1.1])

    def x_of(self, t: float) -> float:
        return LABEL_W + (self.width() - LABEL_W - 10) * t / self._span()

    def t_of(self, x: float) -> float:
        return max(0.0, (x - LABEL_W) * self._span() / max(1.0, self.width() - LABEL_W - 10))

    def block_rect(self, index: int) -> QRectF:
        step = self.doc.topology.scenario[index]
        row = next((i for i, (name, _) in enumerate(self.tracks()) if name == step.target), 0)
        t = self._drag_t if self._drag and self._drag[0] == index and self._drag_t is not None else step.at_s
        x = self.x_of(t) if t is not None else self.width() - BLOCK_W - 10
        return QRectF(x, 4 + row * TRACK_H, BLOCK_W, TRACK_H - 4)

    def sizeHint(self) -> Any:  # noqa: N802 - Qt's name
        size = super().sizeHint()
        size.setHeight(8 + TRACK_H * max(1, len(self.tracks())))
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
        self.playhead = t
        self.update()

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
            self.set_step(drag[0], at_s=round(t, 1), after_messages=None)
        self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        row = int((event.position().y() - 4) // TRACK_H)
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
            y = 4 + row * TRACK_H
            if row % 2:
                p.fillRect(QRectF(0, y, self.width(), TRACK_H), QColor("#f8f9fa"))
            p.setPen(QColor("#495057" if not is_link else "#862e9c"))
            p.drawText(QRectF(6, y, LABEL_W - 10, TRACK_H), Qt.AlignmentFlag.AlignVCenter, name)
        span, step_s = self._span(), 5.0
        while span / step_s > 12:
            step_s *= 2
        p.setPen(QColor("#dee2e6"))
        tick = 0.0
        while tick <= span:  # a faint second grid, labelled along the bottom
            x = self.x_of(tick)
            p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
            p.drawText(QPointF(x + 2, self.height() - 2), f"{tick:g} s")
            tick += step_s
        for i, step in enumerate(self.doc.topology.scenario):
            rect = self.block_rect(i)
            colour = QColor(COLOURS.get(step.action.value, "#868e96"))
            p.setBrush(QBrush(colour, Qt.BrushStyle.SolidPattern if step.at_s is not None
                              else Qt.BrushStyle.BDiagPattern))
            p.setPen(QPen(QColor("#212529"), 2) if i == self.selected else Qt.PenStyle.NoPen)
            p.drawRoundedRect(rect, 4, 4)
            p.setPen(QColor("white"))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, step.action.value)
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

    def follow() -> None:
        session = getattr(window.run_mode, "session", None)
        timeline.set_playhead(session.now() if session is not None and session.sup.started_at else None)

    timer.timeout.connect(follow)
    timer.start()
    timeline.dock = dock  # type: ignore[attr-defined]
    return timeline
