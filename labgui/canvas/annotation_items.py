"""Notes, boxes and groups on the canvas: items that show `topology.annotations`.

Like node items they never write the document: a drag, a resize or an edit of
the text in place ends in a call to the layer's `commit`, which the editor
(labgui.editor.annotate) turns into one undo command. A group has no position of
its own: it is attached to its member nodes like a link and reframes itself
whenever one of them moves, so it follows them during a drag.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFocusEvent, QFont, QKeyEvent, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneMouseEvent,
    QGraphicsTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from engines.topology.model import Annotation, AnnotationKind
from labgui.canvas import theme
from labgui.canvas.node_item import NodeItem

GRIP = 12.0  # the resize grip in the bottom-right corner
PAD = 8.0
GROUP_MARGIN = 16.0
TITLE_H = 22.0
MIN_SIZE = (60.0, 36.0)
NOTE_FILL, NOTE_EDGE = QColor("#fff3bf"), QColor("#f0c419")
BOX_FILL, BOX_EDGE = QColor(34, 139, 230, 18), QColor("#74a7d6")
GROUP_FILL, GROUP_EDGE = QColor(112, 72, 232, 16), QColor("#7048e8")

Commit = Callable[[int, Annotation], None]


def title_font(kind: AnnotationKind) -> QFont:
    font = QFont()
    font.setPointSizeF(9.5 if kind is AnnotationKind.NOTE else 9.0)
    font.setBold(kind is not AnnotationKind.NOTE)
    return font


class _Text(QGraphicsTextItem):
    """The annotation's text, edited in place: Enter in a title or Ctrl+Enter in a note
    ends the edit, Escape takes it back, leaving the item keeps what was typed."""

    def __init__(self, owner: AnnotationItem) -> None:
        super().__init__(owner)
        self.owner = owner
        self.before = ""
        self._active = False  # set first: dropping the flags takes focus away (a re-entrant finish)

    def begin(self) -> None:
        self.before = self.toPlainText()
        self._active = True
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextEditorInteraction)
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        cursor = self.textCursor()
        cursor.select(cursor.SelectionType.Document)
        self.setTextCursor(cursor)

    def editing(self) -> bool:
        return self._active

    def finish(self, keep: bool) -> None:
        if not self._active:
            return
        self._active = False
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        cursor = self.textCursor()
        cursor.clearSelection()
        self.setTextCursor(cursor)
        if not keep:
            self.setPlainText(self.before)
        self.clearFocus()
        if keep and self.toPlainText() != self.before:
            self.owner.commit_text(self.toPlainText())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = Qt.Key(event.key())
        if key == Qt.Key.Key_Escape:
            self.finish(keep=False)
            return
        enter = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and (self.owner.ann.kind is not AnnotationKind.NOTE
                      or event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            self.finish(keep=True)
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.finish(keep=True)


class AnnotationItem(QGraphicsItem):
    """One annotation; `index` is its place in `topology.annotations`."""

    def __init__(self, index: int, ann: Annotation, commit: Commit,
                 members: list[NodeItem] | None = None) -> None:
        super().__init__()
        self.index, self.ann, self._commit = index, ann, commit
        self.members = members or []
        self.editable = True
        self._rect = QRectF()
        self._resize_from: QPointF | None = None
        flags = QGraphicsItem.GraphicsItemFlag
        self.setFlag(flags.ItemIsSelectable)
        self.setFlag(flags.ItemIsFocusable)
        self.setFlag(flags.ItemSendsGeometryChanges)
        self.setZValue(0.5 if ann.kind is AnnotationKind.NOTE else -5)  # nodes and links stay on top
        self.text = _Text(self)
        self.text.setFont(title_font(ann.kind))
        self.text.setDefaultTextColor(theme.TEXT if ann.kind is not AnnotationKind.GROUP else GROUP_EDGE.darker(130))
        self.text.setPlainText(ann.text)
        self.text.setPos(PAD - 4, 2)
        self.text.document().contentsChanged.connect(self._refit)  # grows while it is typed into
        if self.is_group:
            for node in self.members:
                node.links.append(self)
            self.adjust()
        else:
            self.setPos(QPointF(*ann.position))
            self._set_rect(QRectF(0, 0, *ann.extent()))
        self.set_editable(True)

    @property
    def is_group(self) -> bool:
        return self.ann.kind is AnnotationKind.GROUP

    # -- geometry --------------------------------------------------------------------------
    def _refit(self) -> None:
        if self.is_group:
            self.adjust()
        else:
            self._set_rect(QRectF(0, 0, self._rect.width() or self.ann.extent()[0], self.ann.extent()[1]))

    def _set_rect(self, rect: QRectF) -> None:
        """Take `rect`, grown so the text always fits: a note as tall as its wrapped text,
        a group as wide as its title (one line)."""
        self.prepareGeometryChange()
        if self.is_group:
            self.text.setTextWidth(-1)
            rect.setWidth(max(rect.width(), self.text.boundingRect().width() + 2 * PAD))
        else:
            self.text.setTextWidth(max(20.0, rect.width() - 2 * PAD + 8))
            if self.ann.kind is AnnotationKind.NOTE:
                rect.setHeight(max(rect.height(), self.text.boundingRect().height() + 6))
        self._rect = rect

    def rect(self) -> QRectF:
        return QRectF(self._rect)

    def adjust(self) -> None:
        """A group reframes its members (called by a member node when it moves)."""
        if not self.is_group or not self.members:
            return
        area = QRectF()
        for node in self.members:
            area = area.united(node.sceneBoundingRect())
        area.adjust(-GROUP_MARGIN, -GROUP_MARGIN - TITLE_H, GROUP_MARGIN, GROUP_MARGIN)
        self.text.setTextWidth(-1)
        wider = (self.text.boundingRect().width() + 2 * PAD - area.width()) / 2
        if wider > 0:  # a long title: the frame widens on both sides, its nodes stay centred
            area.adjust(-wider, 0, wider, 0)
        self.setPos(area.topLeft())
        self._set_rect(QRectF(QPointF(0, 0), area.size()))

    def detach(self) -> None:
        for node in self.members:
            if self in node.links:
                node.links.remove(self)

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-2, -2, 2, 2)

    def grip(self) -> QRectF:
        r = self._rect
        return QRectF(r.right() - GRIP, r.bottom() - GRIP, GRIP, GRIP)

    def set_editable(self, editable: bool) -> None:
        self.editable = editable
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, editable and not self.is_group)
        if not editable:
            self.text.finish(keep=False)
        self.update()

    # -- painting --------------------------------------------------------------------------
    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        kind, r = self.ann.kind, self._rect
        selected = self.isSelected()
        if kind is AnnotationKind.NOTE:
            p.setPen(QPen(theme.ACCENT if selected else NOTE_EDGE, 1.5 if selected else 1))
            p.setBrush(QBrush(NOTE_FILL))
            p.drawRoundedRect(r, 3, 3)
        else:
            fill, edge = (BOX_FILL, BOX_EDGE) if kind is AnnotationKind.BOX else (GROUP_FILL, GROUP_EDGE)
            pen = QPen(theme.ACCENT if selected else edge, 2 if selected else 1.4)
            pen.setStyle(Qt.PenStyle.SolidLine if kind is AnnotationKind.BOX else Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.setBrush(QBrush(fill))
            p.drawRoundedRect(r, 8, 8)
            p.setPen(QPen(edge.lighter(130), 1))
            p.drawLine(QPointF(r.left() + 6, r.top() + TITLE_H), QPointF(r.right() - 6, r.top() + TITLE_H))
        if self.editable and selected and not self.is_group:
            p.setPen(QPen(theme.MUTED, 1))
            g = self.grip()
            for k in (3.0, 7.0, 11.0):
                p.drawLine(QPointF(g.right() - k, g.bottom() - 1), QPointF(g.right() - 1, g.bottom() - k))

    # -- gestures --------------------------------------------------------------------------
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self.editable and not self.is_group and event.button() == Qt.MouseButton.LeftButton \
                and self.grip().contains(event.pos()):
            self._resize_from = event.pos()
            self.setSelected(True)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._resize_from is not None:
            w = max(MIN_SIZE[0], event.pos().x())
            h = max(MIN_SIZE[1], event.pos().y())
            self._set_rect(QRectF(0, 0, round(w / 10) * 10, round(h / 10) * 10))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._resize_from is not None:
            self._resize_from = None
            size = (self._rect.width(), self._rect.height())
            if size != self.ann.extent():
                self._commit(self.index, self.ann.model_copy(update={"size": size}))
            event.accept()
            return
        super().mouseReleaseEvent(event)  # the scene then commits every move (AnnotationLayer.commit_moves)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self.edit_text()
        event.accept()

    def edit_text(self) -> None:
        if self.editable:
            self.setSelected(True)
            self.text.begin()

    def commit_text(self, text: str) -> None:
        self._commit(self.index, self.ann.model_copy(update={"text": text}))

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and isinstance(value, QPointF) \
                and not self.is_group and self._resize_from is None:
            return QPointF(round(value.x() / 10) * 10, round(value.y() / 10) * 10)
        return super().itemChange(change, value)
