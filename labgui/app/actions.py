"""The editor's actions (menus, toolbar, shortcuts) and the small icons they need.

Kept apart from the window so run mode (labgui.run) can add Run/Stop next to
them and so tests can trigger exactly what a user would click.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QWidget

from engines.topology.vocabulary import NodeKind
from labgui.canvas import theme

INK = QColor("#495057")


def drawn_icon(draw: Callable[[QPainter], None], size: int = 20) -> QIcon:
    pixmap = QPixmap(size * 2, size * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(INK, 1.6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
    draw(p)
    p.end()
    return QIcon(pixmap)


def _layout(p: QPainter) -> None:
    for x, ys in ((3, (9,)), (9, (5, 13)), (15, (3, 9, 15))):
        for y in ys:
            p.setBrush(theme.KIND_COLOURS[(NodeKind.CLIENT, NodeKind.BROKER, NodeKind.SERVICE)[x // 6]])
            p.drawEllipse(QPointF(x, y), 2.2, 2.2)


def _fit(p: QPainter) -> None:
    for x, y, dx, dy in ((3, 3, 1, 1), (17, 3, -1, 1), (3, 17, 1, -1), (17, 17, -1, -1)):
        p.drawLine(QPointF(x, y), QPointF(x + 4 * dx, y))
        p.drawLine(QPointF(x, y), QPointF(x, y + 4 * dy))
    p.drawRect(QRectF(7, 7, 6, 6))


def _magnifier(sign: str) -> Callable[[QPainter], None]:
    def draw(p: QPainter) -> None:
        p.drawEllipse(QPointF(8.5, 8.5), 5.5, 5.5)
        p.drawLine(QPointF(12.5, 12.5), QPointF(17, 17))
        p.drawLine(QPointF(6, 8.5), QPointF(11, 8.5))
        if sign == "+":
            p.drawLine(QPointF(8.5, 6), QPointF(8.5, 11))
    return draw


def _duplicate(p: QPainter) -> None:
    p.drawRoundedRect(QRectF(3, 3, 10, 10), 2, 2)
    p.setBrush(QColor("white"))
    p.drawRoundedRect(QRectF(7, 7, 10, 10), 2, 2)


class EditorActions:
    """Every action of the editor window, created once, wired by the window."""

    def __init__(self, window: QWidget) -> None:
        style = window.style()

        def make(text: str, shortcut: QKeySequence | str | QKeySequence.StandardKey | None = None,
                 icon: QIcon | None = None, tip: str | None = None) -> QAction:
            action = QAction(text, window)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            if icon is not None:
                action.setIcon(icon)
            action.setToolTip(tip or text.replace("&", "").replace("…", ""))
            action.setStatusTip(tip or "")
            window.addAction(action)
            return action

        sp = QStyle.StandardPixmap
        self.new = make("&New", QKeySequence.StandardKey.New, style.standardIcon(sp.SP_FileIcon),
                        "Start an empty topology")
        self.open = make("&Open…", QKeySequence.StandardKey.Open, style.standardIcon(sp.SP_DialogOpenButton),
                         "Open a topology file")
        self.save = make("&Save", QKeySequence.StandardKey.Save, style.standardIcon(sp.SP_DialogSaveButton),
                         "Save the topology as the YAML the CLI runs")
        self.save_as = make("Save &As…", QKeySequence.StandardKey.SaveAs)
        self.quit = make("&Quit", QKeySequence.StandardKey.Quit)
        self.cut = make("Cu&t", QKeySequence.StandardKey.Cut)
        self.copy = make("&Copy", QKeySequence.StandardKey.Copy)
        self.paste = make("&Paste", QKeySequence.StandardKey.Paste)
        self.duplicate = make("D&uplicate", "Ctrl+D", drawn_icon(_duplicate),
                              "Copy the selected nodes and the links between them")
        self.delete = make("&Delete", QKeySequence.StandardKey.Delete, style.standardIcon(sp.SP_TrashIcon),
                           "Delete the selection (nodes take their links with them)")
        self.delete.setShortcuts([QKeySequence(QKeySequence.StandardKey.Delete), QKeySequence("Backspace")])
        self.select_all = make("Select &All", QKeySequence.StandardKey.SelectAll)
        self.auto_layout = make("Auto-&layout", "Ctrl+L", drawn_icon(_layout),
                                "Arrange clients, brokers and services in columns")
        self.zoom_in = make("Zoom &In", QKeySequence.StandardKey.ZoomIn, drawn_icon(_magnifier("+")))
        self.zoom_out = make("Zoom &Out", QKeySequence.StandardKey.ZoomOut, drawn_icon(_magnifier("-")))
        self.zoom_reset = make("&Actual Size", "Ctrl+0")
        self.fit = make("&Fit to View", "F", drawn_icon(_fit), "Show the whole topology")
        self.snap = make("&Snap to Grid", "#")
        self.snap.setCheckable(True)
        self.snap.setChecked(True)
        self.about = make("&About Topology Lab")

    def editing(self) -> list[QAction]:
        """Actions that change the topology: off while a run locks editing."""
        return [self.cut, self.paste, self.duplicate, self.delete, self.auto_layout]
