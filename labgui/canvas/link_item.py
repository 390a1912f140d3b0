"""A link on the canvas: an arrow between two node tiles with its transport on a pill.

The colour says the transport (zmq, amqp, http); a link with an error is drawn
dashed red. Run mode calls `set_rate` to add a live rate to the pill,
`set_thickness` to show how much flows and `set_flow` to move dashes along
the line while messages cross it (a stalled link is drawn still, its rate red).

The moving dashes are a child path item drawn by Qt in C++, and the link
itself a cached picture: ten dash steps a second on every busy link would
otherwise repaint each link (its line, arrow and pill) in Python.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

from engines.topology.problems import Problem, Severity
from engines.topology.vocabulary import Transport
from labgui.canvas import theme
from labgui.canvas.node_item import NodeItem

ARROW = 11.0
GAP = 4.0  # between the arrow's ends and the tiles


def _edge_point(outline: QPainterPath, inside: QPointF, outside: QPointF) -> QPointF:
    """Where the segment from `inside` to `outside` leaves the outline."""
    polygon = outline.toFillPolygon()
    ray = QLineF(inside, outside)
    best, best_t = outside, 2.0
    for i in range(polygon.count()):
        edge = QLineF(polygon.at(i), polygon.at((i + 1) % polygon.count()))
        kind, point = ray.intersects(edge)
        if kind == QLineF.IntersectionType.BoundedIntersection:
            t = QLineF(inside, point).length() / max(ray.length(), 1e-6)
            if t < best_t:
                best, best_t = point, t
    return best


class LinkItem(QGraphicsItem):
    """A directed link; `key` is its key in the document ('from->to' or its name)."""

    def __init__(self, key: str, source: NodeItem, target: NodeItem) -> None:
        super().__init__()
        self.key = key
        self.source = source
        self.target = target
        self.transport: Transport | None = None
        self.caption = ""
        self.rate: str | None = None
        self.thickness = 2.0
        self.flow: float | None = None  # dash offset while messages flow; None: still
        self.stalled = False
        self.lane = 0.0  # perpendicular offset when two links join the same nodes
        self.problems: list[Problem] = []
        self.marked = False
        self._line = QLineF()
        self._label = QRectF()
        self._bounds = QRectF()
        self._bounds_key: tuple[QLineF, QRectF, float] | None = None
        self._font = QFont()
        self._font.setPointSizeF(7.5)
        self._font.setBold(True)
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(1)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._ants = QGraphicsPathItem(self)  # the moving dashes, over the line, around the pill
        self._ants.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._ants.setVisible(False)
        source.links.append(self)
        target.links.append(self)
        self.adjust()

    def detach(self) -> None:
        for end in (self.source, self.target):
            if self in end.links:
                end.links.remove(self)

    # -- content -----------------------------------------------------------------------
    def set_content(self, key: str, transport: Transport | None, caption: str) -> None:
        self.key, self.transport, self.caption = key, transport, caption
        self.setToolTip(f"{key}\n{caption}")
        self.adjust()

    def set_problems(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = [f"{p.severity.value}: {p.message}" for p in problems]
        self.setToolTip("\n".join([self.key, self.caption, *lines]))
        self.update()

    def set_marked(self, marked: bool) -> None:
        self.marked = marked
        self.update()

    # -- run-mode seams -------------------------------------------------------------------
    def set_rate(self, text: str | None) -> None:
        """Show a live rate next to the transport, e.g. '1.2k/s' (the line itself stays put)."""
        if text == self.rate:
            return
        self.rate = text
        label = self._label_rect()
        if label != self._label:
            self.prepareGeometryChange()
            self._label = label
            self._ants_path()
        self.update()

    def set_thickness(self, width: float) -> None:
        if width == self.thickness:
            return
        self.prepareGeometryChange()
        self.thickness = width
        self._show_ants()
        self.update()

    def set_flow(self, phase: float | None, stalled: bool = False) -> None:
        """Animate the dashes (phase in pen widths), or hold them still; `stalled` reddens the rate."""
        if phase == self.flow and stalled == self.stalled:
            return
        restyled = stalled != self.stalled
        self.flow, self.stalled = phase, stalled
        self._show_ants()
        if restyled:  # the line's style and the pill's colour: the link's own picture
            self.update()

    def _show_ants(self) -> None:
        """Dashes on links of 3 px and more while `flow` is set; a step only moves their offset."""
        moving = self.flow is not None and self.thickness >= 3 and self._line.length() >= 1
        self._ants.setVisible(moving)
        if moving:
            ants = QPen(QColor(255, 255, 255, 190), max(1.5, self.thickness * 0.4), Qt.PenStyle.CustomDashLine,
                        Qt.PenCapStyle.FlatCap)
            ants.setDashPattern([2.0, 3.0])
            ants.setDashOffset(-(self.flow or 0.0))
            self._ants.setPen(ants)

    def _ants_path(self) -> None:
        """From the line's start to the arrow head, broken where the pill covers the line."""
        line = self._line
        path = QPainterPath()
        if line.length() >= 1:
            unit = line.unitVector()
            u = QPointF(unit.dx(), unit.dy())
            end = line.p2() - u * ARROW  # short of the head, which the link draws under it
            path.moveTo(line.p1())
            if line.length() >= self._label.width() + 2 * ARROW:  # the pill is drawn: go round it
                half_w, half_h = self._label.width() / 2, self._label.height() / 2
                reach = min(half_w / abs(u.x()) if u.x() else math.inf, half_h / abs(u.y()) if u.y() else math.inf)
                mid = line.center()
                path.lineTo(mid - u * reach)
                path.moveTo(mid + u * reach)
            path.lineTo(end)
        self._ants.setPath(path)

    # -- geometry ---------------------------------------------------------------------------
    @property
    def has_error(self) -> bool:
        return any(p.severity is Severity.ERROR for p in self.problems)

    def label_text(self) -> str:
        text = self.transport.value if self.transport else "?"
        return f"{text} · {self.rate}" if self.rate else text

    def adjust(self) -> None:
        self.prepareGeometryChange()
        a, b = self.source.pos(), self.target.pos()
        line = QLineF(a, b)
        if self.lane and line.length() > 0:
            normal = line.normalVector().unitVector()
            shift = QPointF(normal.dx() * self.lane, normal.dy() * self.lane)
            a, b = a + shift, b + shift
        start = _edge_point(self.source.tile_outline().translated(a - self.source.pos()), a, b)
        end = _edge_point(self.target.tile_outline().translated(b - self.target.pos()), b, a)
        line = QLineF(start, end)
        if line.length() > 2 * GAP:
            unit = line.unitVector()
            d = QPointF(unit.dx() * GAP, unit.dy() * GAP)
            line = QLineF(start + d, end - d)
        self._line = line
        self._label = self._label_rect()
        self._ants_path()
        self._show_ants()
        self.update()

    def _label_rect(self) -> QRectF:
        """The pill in the middle of the line; its width grows in steps so live rates rarely move it."""
        metrics = QFontMetricsF(self._font)
        width = math.ceil((metrics.horizontalAdvance(self.label_text()) + 12) / 8) * 8
        height = metrics.height() + 4
        mid = self._line.center()
        return QRectF(mid.x() - width / 2, mid.y() - height / 2, width, height)

    def line(self) -> QLineF:
        return QLineF(self._line)

    def boundingRect(self) -> QRectF:
        # cached: Qt asks thousands of times a second during a run; every change of the line,
        # the label or the thickness calls prepareGeometryChange first (it reads the old one)
        key = (self._line, self._label, self.thickness)
        if self._bounds_key != key:
            rect = QRectF(self._line.p1(), self._line.p2()).normalized()
            pad = ARROW + self.thickness + 4
            self._bounds = rect.adjusted(-pad, -pad, pad, pad).united(self._label.adjusted(-2, -2, 2, 2))
            self._bounds_key = (QLineF(self._line), QRectF(self._label), self.thickness)
        return self._bounds

    def shape(self) -> QPainterPath:
        path = QPainterPath(self._line.p1())
        path.lineTo(self._line.p2())
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        shape = stroker.createStroke(path)
        shape.addRoundedRect(self._label, 6, 6)
        return shape

    # -- painting -------------------------------------------------------------------------------
    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self._line.length() < 1:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = theme.ERROR if self.has_error else theme.transport_colour(self.transport)
        if self.isSelected() or self.marked:
            halo = QColor(theme.ERROR if self.marked else theme.ACCENT)
            halo.setAlpha(70)
            p.setPen(QPen(halo, self.thickness + 7, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            p.drawLine(self._line)
        style = Qt.PenStyle.DashLine if self.has_error or self.stalled else Qt.PenStyle.SolidLine
        p.setPen(QPen(colour, self.thickness, style, Qt.PenCapStyle.RoundCap))
        unit = self._line.unitVector()
        back = QPointF(unit.dx() * ARROW * 0.8, unit.dy() * ARROW * 0.8)
        p.drawLine(QLineF(self._line.p1(), self._line.p2() - back))
        self._paint_arrow(p, colour)
        self._paint_label(p, colour)

    def _paint_arrow(self, p: QPainter, colour: QColor) -> None:
        tip = self._line.p2()
        angle = math.atan2(self._line.dy(), self._line.dx())
        spread = math.radians(24)
        left = QPointF(tip.x() - ARROW * math.cos(angle - spread), tip.y() - ARROW * math.sin(angle - spread))
        right = QPointF(tip.x() - ARROW * math.cos(angle + spread), tip.y() - ARROW * math.sin(angle + spread))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawPolygon(QPolygonF([tip, left, right]))

    def _paint_label(self, p: QPainter, colour: QColor) -> None:
        if self._line.length() < self._label.width() + 2 * ARROW:
            return  # nodes too close: the arrow alone says enough
        if self.stalled:
            colour = theme.ERROR
        p.setPen(QPen(colour, 2.0 if self.stalled else 1.2))
        p.setBrush(QColor("#fff5f5") if self.stalled else QColor("white"))
        radius = self._label.height() / 2
        p.drawRoundedRect(self._label, radius, radius)
        p.setPen(colour.darker(115))
        p.setFont(self._font)
        p.drawText(self._label, Qt.AlignmentFlag.AlignCenter, self.label_text())
