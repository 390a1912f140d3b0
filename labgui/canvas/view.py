"""The canvas view: dotted grid, wheel zoom, pan, fit, rubber band, and drops from the palette."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QWidget

from engines.topology.vocabulary import NodeKind
from labgui.canvas import theme
from labgui.canvas.scene import CanvasScene

PALETTE_MIME = "application/x-topology-lab-node-kind"
MIN_ZOOM, MAX_ZOOM, FIT_MAX = 0.2, 3.0, 1.25
DOT_STEP = 20.0


class CanvasView(QGraphicsView):
    """Shows a CanvasScene; emits `node_dropped(kind, scene_pos)` when a palette item lands."""

    node_dropped = Signal(object, QPointF)
    zoom_changed = Signal(float)

    def __init__(self, scene: CanvasScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.canvas = scene
        self.locked_text = ""
        self._was_empty = not scene.nodes
        self.auto_fit = False  # fitted and not zoomed or panned since: a resize fits again  # the empty-canvas hint is painted over the whole view
        self._pan_from: QPointF | None = None
        self._space = False
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)  # the dot grid, drawn once
        self.setAcceptDrops(True)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        # Pan with the middle button or Space-drag, as canvas tools do; bars would only crowd it.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scene.doc.edited.connect(self.update_scene_rect)
        scene.doc.topology_replaced.connect(self.update_scene_rect)
        self.update_scene_rect()

    # -- zoom and pan -------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        factor = max(MIN_ZOOM, min(MAX_ZOOM, factor))
        self.scale(factor / self.zoom, factor / self.zoom)
        self.zoom_changed.emit(self.zoom)

    def zoom_in(self) -> None:
        self.auto_fit = False
        self.set_zoom(self.zoom * 1.25)

    def zoom_out(self) -> None:
        self.auto_fit = False
        self.set_zoom(self.zoom / 1.25)

    def reset_zoom(self) -> None:
        self.auto_fit = False
        self.set_zoom(1.0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """A narrower window (1024 px, docks coming and going) refits a fitted canvas."""
        super().resizeEvent(event)
        if self.auto_fit:
            self.fit_to_view()

    def fit_to_view(self) -> None:
        """Show every node, no larger than a comfortable zoom."""
        if not self.canvas.nodes:
            self.resetTransform()
            self.centerOn(0, 0)
            self.zoom_changed.emit(self.zoom)
            return
        rect = self.canvas.itemsBoundingRect().adjusted(-50, -40, 50, 40)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom > FIT_MAX:
            self.set_zoom(FIT_MAX)
        self.centerOn(rect.center())
        self.auto_fit = True
        self.zoom_changed.emit(self.zoom)

    def shows_all(self) -> bool:
        """Every item is inside the visible part of the canvas."""
        return self.mapToScene(self.viewport().rect()).boundingRect().contains(self.canvas.itemsBoundingRect())

    def update_scene_rect(self) -> None:
        items = self.canvas.itemsBoundingRect()
        self.setSceneRect(items.united(QRectF(-400, -300, 800, 600)).adjusted(-1500, -1500, 1500, 1500))
        empty = not self.canvas.nodes
        if empty != self._was_empty:  # the hint comes or goes: the viewport only repaints items
            self._was_empty = empty
            self.viewport().update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.auto_fit = False
            self.set_zoom(self.zoom * (1.15 ** steps))
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton or \
                (self._space and event.button() == Qt.MouseButton.LeftButton):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.auto_fit = False
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().unsetCursor()
        super().keyReleaseEvent(event)

    # -- drops from the palette ----------------------------------------------------------------
    def _kind_of(self, event: QDropEvent | QDragMoveEvent | QDragEnterEvent) -> NodeKind | None:
        data = event.mimeData()
        if not data.hasFormat(PALETTE_MIME) or not self.canvas.editable:
            return None
        try:
            return NodeKind(bytes(data.data(PALETTE_MIME).data()).decode())
        except ValueError:
            return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._kind_of(event) is not None:
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._kind_of(event) is not None:
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        kind = self._kind_of(event)
        if kind is None:
            super().dropEvent(event)
            return
        self.node_dropped.emit(kind, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()

    # -- drawing ---------------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        painter.fillRect(rect, theme.CANVAS)
        step = DOT_STEP
        while step * self.zoom < 12:
            step *= 2
        pen = QPen(theme.GRID_DOT, max(1.6 / self.zoom, 1.0))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        left = int(rect.left() // step) * step
        top = int(rect.top() // step) * step
        points = []
        y = top
        while y < rect.bottom():
            x = left
            while x < rect.right():
                points.append(QPointF(x, y))
                x += step
            y += step
        painter.drawPoints(points)

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        if self.canvas.nodes and not self.locked_text:
            return
        painter.save()
        painter.resetTransform()
        area = QRectF(self.viewport().rect())
        font = QFont()
        font.setPointSizeF(11)
        painter.setFont(font)
        if not self.canvas.nodes:
            painter.setPen(theme.MUTED)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter,
                             "Drag a client, a service or a RabbitMQ broker here from the palette.\n"
                             "Then drag from a node's + handle to the node it sends to.")
        if self.locked_text:
            banner = QRectF(area.center().x() - 210, 10, 420, 30)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(33, 37, 41, 220))
            painter.drawRoundedRect(banner, 15, 15)
            painter.setPen(QColor("white"))
            painter.drawText(banner, Qt.AlignmentFlag.AlignCenter, self.locked_text)
        painter.restore()

    def set_locked_text(self, text: str) -> None:
        """Run mode: say on the canvas why editing is off (empty string: editing is on)."""
        self.locked_text = text
        self.viewport().update()
