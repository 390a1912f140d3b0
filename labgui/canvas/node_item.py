"""A node on the canvas: its tile, name and subtitle, problem mark, and run-mode seams.

The item shows; it never edits the document. Position changes made by dragging
are snapped here and turned into one undo command by the scene on release.
Run mode calls `set_state` (a coloured ring), `set_badge` (a pill on the
corner: queue depth, or the state when it is bad news) and `set_detail` (a
live line under the subtitle); the last two are painted by a child item
(labgui.canvas.node_live), so a changing figure does not repaint the tile.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from engines.topology.problems import Problem, Severity
from engines.topology.vocabulary import NodeKind
from labgui.canvas import theme
from labgui.canvas.node_live import NodeLive


class Attached(Protocol):
    """A link drawn to this node: it follows the node when the node moves."""

    def adjust(self) -> None: ...

GRID = 10.0
HALF = theme.TILE / 2
TEXT_WIDTH = 200.0
DETAIL_WIDTH = 240.0
STEP = 8.0  # live widths grow in steps, so a changing figure rarely changes the item's size
HANDLE_RADIUS = 6.5
STATE_COLOURS = {
    "starting": QColor("#74c0fc"),
    "ready": QColor("#37b24d"),
    "paused": QColor("#fab005"),
    "killed": QColor("#e03131"),
    "crashed": QColor("#c92a2a"),
    "exited": QColor("#adb5bd"),
}


def name_font() -> QFont:
    font = QFont()
    font.setPointSizeF(9.5)
    font.setBold(True)
    return font


def live_font() -> QFont:
    font = QFont()
    font.setPointSizeF(8.5)
    font.setBold(True)
    return font


def subtitle_font() -> QFont:
    font = QFont()
    font.setPointSizeF(8.0)
    return font


class NodeItem(QGraphicsItem):
    """One client, service or broker. `name` is its key in the document."""

    def __init__(self, name: str, kind: NodeKind, subtitle: str, glyph: str | None = None) -> None:
        super().__init__()
        self.name = name
        self.kind = kind
        self.subtitle = subtitle
        self.glyph = glyph  # a role's glyph instead of the kind's (theme.role: mail)
        self.links: list[Attached] = []
        self.problems: list[Problem] = []
        self.snap = True
        self.marked = False
        self.link_hint: bool | None = None  # while dragging a link over it: accepted or not
        self.state: str | None = None
        self.badge: str | None = None
        self.badge_colour = QColor("#343a40")
        self.detail: str | None = None
        self.detail_colour = theme.TEXT
        self._hover = False
        self._fonts = (name_font(), subtitle_font(), live_font())
        self._metrics = tuple(QFontMetricsF(f) for f in self._fonts)  # measured once, not per figure
        self._titles: tuple[str, str] | None = None  # (name, subtitle) the title layout was made for
        self._bounding = QRectF()
        self._batching = self._batched = False  # inside batch(); a field changed there
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setAcceptHoverEvents(True)
        self.setZValue(2)
        # Painted from a cached pixmap unless the node itself changed: during a run, links
        # repaint 20 times a second under their nodes, and fifty tiles redrawn in Python each
        # time would take the window's whole frame.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._layout()
        self.live = NodeLive(self, self)  # badge and detail: a live figure repaints only them

    # -- content -------------------------------------------------------------------
    def set_content(self, name: str, subtitle: str, glyph: str | None = None) -> None:
        self.prepareGeometryChange()
        self.name, self.subtitle, self.glyph = name, subtitle, glyph
        self._layout()
        self.live.relayout()
        self.update()

    def set_problems(self, problems: list[Problem]) -> None:
        self.problems = problems
        if problems:
            self.setToolTip("\n".join(f"{p.severity.value}: {p.message}" + (f" ({p.hint})" if p.hint else "")
                                      for p in problems))
        else:
            self.setToolTip("")
        self.update()

    def set_marked(self, marked: bool) -> None:
        self.marked = marked
        self.update()

    def set_link_hint(self, hint: bool | None) -> None:
        self.link_hint = hint
        self.update()

    # -- run-mode seams ---------------------------------------------------------------
    def set_state(self, state: str | None) -> None:
        """Show a run state (starting, ready, paused, killed, crashed, exited) as a ring."""
        if state != self.state:
            self.state = state
            self.update()

    def set_badge(self, text: str | None, colour: QColor | None = None) -> None:
        """Show a short figure on the tile's corner (queue depth, duplicates...)."""
        colour = colour or QColor("#343a40")
        if text != self.badge or colour != self.badge_colour:
            self._change(badge=text, badge_colour=colour)

    def set_detail(self, text: str | None, colour: QColor | None = None) -> None:
        """Live lines under the subtitle ('\n' between them), e.g. what a service processed."""
        colour = colour or theme.TEXT
        if text != self.detail or colour != self.detail_colour:
            self._change(detail=text, detail_colour=colour)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """The live fields set inside are laid out once, at the end (a sample sets the badge
        and the detail of every node: one layout each, not two)."""
        self._batched = False
        self._batching = True
        try:
            yield
        finally:
            self._batching = False
            if self._batched:
                self._change()

    def _change(self, **values: object) -> None:
        """Set live fields; tell the scene about a new size only when the size really changed
        (widths move in steps), since that is what costs during a run, not the repaint."""
        for key, value in values.items():
            setattr(self, key, value)
        if self._batching:
            self._batched = True
            return
        old = self._bounding
        self._layout()  # once: a figure changes five times a second on fifty nodes
        if self._bounding != old:
            new, self._bounding = self._bounding, old
            self.prepareGeometryChange()  # Qt reads the old bounds here
            self._bounding = new
        self.live.relayout()  # the tile itself did not change: its cached picture stays

    # -- geometry ----------------------------------------------------------------------
    @property
    def is_source(self) -> bool:
        """Every node starts links: clients and brokers, services that send on (a chain), and a
        mail service, which links to the services that read its mailbox."""
        return True

    def tile_rect(self) -> QRectF:
        return QRectF(-HALF, -HALF, theme.TILE, theme.TILE)

    def handle_centre(self) -> QPointF:
        return QPointF(HALF + 3, 0)

    def handle_contains(self, point: QPointF) -> bool:
        d = point - self.handle_centre()
        return self.is_source and (d.x() ** 2 + d.y() ** 2) <= (HANDLE_RADIUS + 4) ** 2

    def tile_outline(self) -> QPainterPath:
        """The tile's outline in scene coordinates, where links start and end."""
        return theme.tile_path(self.kind, self.tile_rect()).translated(self.pos())

    def _layout(self) -> None:
        bold, small, live = self._metrics
        if self._titles != (self.name, self.subtitle):  # live figures change; the titles rarely
            self._titles = (self.name, self.subtitle)
            self._name_text = bold.elidedText(self.name, Qt.TextElideMode.ElideRight, TEXT_WIDTH)
            self._sub_text = small.elidedText(self.subtitle, Qt.TextElideMode.ElideMiddle, TEXT_WIDTH)
        self._detail_lines = [live.elidedText(line, Qt.TextElideMode.ElideRight, DETAIL_WIDTH)
                              for line in (self.detail or "").split("\n") if line]
        width = max(bold.horizontalAdvance(self._name_text), small.horizontalAdvance(self._sub_text),
                    theme.TILE) + 12
        detail_width = math.ceil((max((live.horizontalAdvance(t) for t in self._detail_lines), default=0)
                                  + 12) / STEP) * STEP if self.detail else 0
        top = HALF + 5
        self._name_rect = QRectF(-width / 2, top, width, bold.height())
        self._sub_rect = QRectF(-width / 2, top + bold.height(), width, small.height())
        self._detail_rect = QRectF(-detail_width / 2, self._sub_rect.bottom() + 2, detail_width,
                                   live.height() * len(self._detail_lines) + 3 if self.detail else 0)
        self._body = QRectF(-width / 2, -HALF - 6, width, self._sub_rect.bottom() + HALF + 10)
        self._badge_rect = QRectF()
        if self.badge:
            w = math.ceil((bold.horizontalAdvance(self.badge) + 12) / STEP) * STEP
            self._badge_rect = QRectF(HALF - 14, -HALF - 10, w, bold.height() + 3)
        self._bounding = self._bounds()

    def _bounds(self) -> QRectF:
        extra = QRectF(HALF, -HANDLE_RADIUS - 1, HANDLE_RADIUS * 2 + 6, HANDLE_RADIUS * 2 + 2)
        rect = self._body.united(extra).united(self._badge_rect)
        if self.detail:
            rect = rect.united(self._detail_rect)
        return rect.adjusted(-6, -12, 6, 4)

    def boundingRect(self) -> QRectF:
        return self._bounding  # set by _layout: Qt asks thousands of times a second during a run

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.setFillRule(Qt.FillRule.WindingFill)  # the handle overlaps the body: keep both
        path.addRect(self._body)
        if self.is_source:
            path.addEllipse(self.handle_centre(), HANDLE_RADIUS + 4, HANDLE_RADIUS + 4)
        return path

    # -- painting ------------------------------------------------------------------------
    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        tile = self.tile_rect()
        if self.isSelected():
            p.setPen(QPen(theme.ACCENT, 1.5))
            p.setBrush(QColor(34, 139, 230, 28))
            p.drawRoundedRect(self._body, 8, 8)
        if self.marked:
            p.setPen(QPen(theme.ERROR, 2, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(self._body.adjusted(-4, -4, 4, 4), 10, 10)
        ring = None
        if self.link_hint is not None:
            ring = QColor("#2f9e44") if self.link_hint else theme.ERROR
        elif self.state is not None:
            ring = STATE_COLOURS.get(self.state, theme.MUTED)
        if ring is not None:
            p.setPen(QPen(ring, 4))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(theme.tile_path(self.kind, tile.adjusted(-5, -5, 5, 5)))
        fill = theme.ROLE_COLOURS.get(self.glyph or "", theme.KIND_COLOURS[self.kind])
        if self.state in ("killed", "crashed", "exited"):
            fill = QColor("#adb5bd")
        theme.paint_tile(p, self.kind, tile, fill=fill, outline=QPen(fill.darker(120), 1), glyph=self.glyph)
        p.setPen(theme.TEXT)
        p.setFont(self._fonts[0])
        p.drawText(self._name_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, self._name_text)
        p.setPen(theme.MUTED)
        p.setFont(self._fonts[1])
        p.drawText(self._sub_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, self._sub_text)
        if self.is_source and (self._hover or self.isSelected()) and self.flags() & \
                QGraphicsItem.GraphicsItemFlag.ItemIsMovable:
            p.setPen(QPen(theme.KIND_COLOURS[self.kind].darker(110), 2))
            p.setBrush(QColor("white"))
            p.drawEllipse(self.handle_centre(), HANDLE_RADIUS, HANDLE_RADIUS)
            c = self.handle_centre()
            p.drawLine(QPointF(c.x() - 3, c.y()), QPointF(c.x() + 3, c.y()))
            p.drawLine(QPointF(c.x(), c.y() - 3), QPointF(c.x(), c.y() + 3))
        self._paint_mark(p, tile)  # the badge and the detail: self.live (labgui.canvas.node_live)

    def _paint_mark(self, p: QPainter, tile: QRectF) -> None:
        if not self.problems:
            return
        error = any(pr.severity is Severity.ERROR for pr in self.problems)
        centre = QPointF(tile.left() + 2, tile.top() + 2)
        p.setPen(QPen(QColor("white"), 1.5))
        p.setBrush(QBrush(theme.ERROR if error else theme.WARNING))
        p.drawEllipse(centre, 8.5, 8.5)
        font = QFont(self._fonts[0])
        font.setPointSizeF(8.5)
        p.setFont(font)
        p.setPen(QColor("white"))
        p.drawText(QRectF(centre.x() - 8, centre.y() - 8, 16, 16), Qt.AlignmentFlag.AlignCenter, "!")

    # -- interaction -------------------------------------------------------------------------
    def hoverEnterEvent(self, event: Any) -> None:
        self._hover = True
        self.update()
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event: Any) -> None:
        self._hover = False
        self.update()
        super().hoverLeaveEvent(event)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and self.snap \
                and isinstance(value, QPointF):
            return QPointF(round(value.x() / GRID) * GRID, round(value.y() / GRID) * GRID)
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for link in self.links:
                link.adjust()
        return super().itemChange(change, value)
