"""The live part of a node during a run: its badge and its detail lines, as a child item.

During a run a node's figures change five times a second while its tile, name
and ring do not. As a child with a cache of its own, a new figure repaints
this small item only (a rounded box and a few words), and the tile stays a
cached pixmap. It takes no mouse, hover or tooltip: the node under it does.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget


class Figures(Protocol):
    """What a node (labgui.canvas.node_item) lays out for this item to paint."""

    badge: str | None
    badge_colour: QColor
    detail: str | None
    detail_colour: QColor
    _badge_rect: QRectF
    _detail_rect: QRectF
    _detail_lines: list[str]
    _fonts: tuple[QFont, QFont, QFont]


class NodeLive(QGraphicsItem):
    """Paints the parent node's `badge` and `detail` (the node lays them out)."""

    def __init__(self, parent: QGraphicsItem, node: Figures) -> None:
        super().__init__(parent)
        self.node = node
        self._rect = QRectF()
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setAcceptHoverEvents(False)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def relayout(self) -> None:
        """The node's live rects changed: a new size tells the scene, then repaint."""
        n = self.node
        rect = QRectF()
        if n.badge:
            rect = rect.united(n._badge_rect)
        if n.detail:
            rect = rect.united(n._detail_rect)
        rect = rect.adjusted(-2, -2, 2, 2) if not rect.isNull() else rect
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        n = self.node
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if n.detail:
            back = QColor("white")
            back.setAlpha(225)
            p.setPen(QPen(n.detail_colour, 1))
            p.setBrush(back)
            p.drawRoundedRect(n._detail_rect, 4, 4)
            p.setPen(n.detail_colour)
            p.setFont(n._fonts[2])
            p.drawText(n._detail_rect, Qt.AlignmentFlag.AlignCenter, "\n".join(n._detail_lines))
        if n.badge:
            rect = n._badge_rect
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(n.badge_colour)
            p.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
            p.setPen(QColor("white"))
            p.setFont(n._fonts[0])
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, n.badge)
