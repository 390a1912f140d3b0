"""The palette: one card per node kind, dragged onto the canvas (or double-clicked) to place one."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QDrag, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engines.topology.model import BrokerNode, ClientNode, ServiceNode, Topology
from engines.topology.refactor import AnyNode
from engines.topology.vocabulary import NodeKind
from labgui.canvas import theme
from labgui.canvas.view import PALETTE_MIME

NAME_STEMS = {NodeKind.CLIENT: "client", NodeKind.SERVICE: "service", NodeKind.BROKER: "rabbit"}


def make_node(topology: Topology, kind: NodeKind, position: QPointF | tuple[float, float]) -> AnyNode:
    """A fresh node of `kind` with a free name, its position snapped to the grid."""
    x, y = (position.x(), position.y()) if isinstance(position, QPointF) else position
    pos = (float(round(x / 10) * 10), float(round(y / 10) * 10))
    name = topology.unique_name(NAME_STEMS[kind])
    if kind is NodeKind.CLIENT:
        return ClientNode(name=name, position=pos)
    if kind is NodeKind.SERVICE:
        return ServiceNode(name=name, position=pos)
    return BrokerNode(name=name, position=pos)


def mime_for(kind: NodeKind) -> QMimeData:
    data = QMimeData()
    data.setData(PALETTE_MIME, kind.value.encode())
    return data


class PaletteCard(QFrame):
    """A draggable card: the kind's tile, its name and what it does."""

    activated = Signal(object)

    def __init__(self, kind: NodeKind, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self._press: QPoint | None = None
        self.setObjectName("paletteCard")
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setToolTip(f"Drag onto the canvas to add a {theme.KIND_LABELS[kind].lower()} "
                        "(or double-click, or Tab to it and press Enter)")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # reachable by keyboard; Enter adds one
        icon = QLabel()
        icon.setPixmap(theme.kind_icon(kind, 34).pixmap(34, 34))
        icon.setFixedSize(38, 38)
        title = QLabel(theme.KIND_LABELS[kind])
        title.setObjectName("paletteTitle")
        blurb = QLabel(theme.KIND_BLURBS[kind])
        blurb.setObjectName("paletteBlurb")
        blurb.setWordWrap(True)
        text = QVBoxLayout()
        text.setSpacing(1)
        text.addWidget(title)
        text.addWidget(blurb)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 6, 8, 6)
        row.setSpacing(10)
        row.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(text, 1)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None or (event.position().toPoint() - self._press).manhattanLength() < 6:
            return
        self._press = None
        drag = QDrag(self)
        drag.setMimeData(mime_for(self.kind))
        drag.setPixmap(theme.kind_icon(self.kind, 44).pixmap(44, 44))
        drag.setHotSpot(QPoint(22, 22))
        drag.exec(Qt.DropAction.CopyAction)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.activated.emit(self.kind)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.activated.emit(self.kind)
            return
        super().keyPressEvent(event)


class Palette(QWidget):
    """The three node kinds; `activated(kind)` when one is double-clicked."""

    activated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cards: dict[NodeKind, PaletteCard] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        for kind in NodeKind:
            card = PaletteCard(kind)
            card.activated.connect(self.activated)
            self.cards[kind] = card
            layout.addWidget(card)
        hint = QLabel("Link: drag from a node's <b>+</b> handle (or Shift-drag) to the node it sends to.")
        hint.setObjectName("paletteHint")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addStretch(1)
        self.setStyleSheet(
            "#paletteCard { background: white; border: 1px solid #dee2e6; border-radius: 8px; }"
            "#paletteCard:hover { border-color: #228be6; }"
            "#paletteCard:focus { border: 2px solid #228be6; }"
            "#paletteTitle { font-weight: bold; color: #212529; }"
            "#paletteBlurb, #paletteHint { color: #6c757d; font-size: 8pt; }"
        )
