"""The refusal callout: why a link was refused, shown where it was drawn, with its quick fixes.

The status bar only had room for a truncated line that vanished after 8 s. The
callout sits on the canvas next to the node the link was released on, shows
the whole reason (wrapped), offers each quick fix of `link_fixes` as a button
(one undo step), and stays until it is closed (x or Escape) or the user does
something else (an edit, a new selection, a click on the canvas).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
)

from labgui.canvas.link_fixes import Fix, fixes
from labgui.canvas.view import CanvasView
from labgui.document import commands

WIDTH = 340
STYLE = """
QFrame#refusalCallout { background: #fff5f5; border: 1px solid #e03131; border-radius: 6px; }
QFrame#refusalCallout QLabel { color: #212529; background: transparent; }
QFrame#refusalCallout QLabel#refusalTitle { color: #c92a2a; font-weight: bold; }
"""


class RefusalCallout(QFrame):
    """A non-modal callout over the canvas view's viewport."""

    def __init__(self, view: CanvasView) -> None:
        super().__init__(view.viewport())
        self.view = view
        self.setObjectName("refusalCallout")
        self.setStyleSheet(STYLE)
        self.setFixedWidth(WIDTH)
        self.title = QLabel()
        self.title.setObjectName("refusalTitle")
        self.title.setWordWrap(True)
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss (Escape)")
        close.clicked.connect(self.dismiss)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.title, 1)
        head.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.buttons = QVBoxLayout()
        layout = self.box = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 8)
        layout.setSpacing(4)
        layout.addLayout(head)
        layout.addWidget(self.reason)
        layout.addLayout(self.buttons)
        self.fix_buttons: list[QPushButton] = []
        self.hide()

    def show_refusal(self, source: str, target: str, reason: str, offered: list[Fix]) -> None:
        self.title.setText(f"Cannot link {source} → {target}")
        self.reason.setText(reason[:1].upper() + reason[1:] + ("" if reason.endswith(".") else "."))
        for button in self.fix_buttons:
            self.buttons.removeWidget(button)
            button.deleteLater()
        self.fix_buttons = []
        for fix in offered:
            button = QPushButton(f"Quick fix: {fix.label}")
            button.setToolTip("One undo step (Ctrl+Z takes it back)")
            button.setStyleSheet("text-align: left; padding: 3px 8px;")
            button.clicked.connect(lambda _c=False, f=fix: self._apply(f))
            self.buttons.addWidget(button)
            self.fix_buttons.append(button)
        self.box.activate()
        self.resize(WIDTH, self.box.heightForWidth(WIDTH) if self.box.hasHeightForWidth()
                    else self.sizeHint().height())
        self._place(target)
        self.show()
        self.raise_()

    def _place(self, target: str) -> None:
        """Under the node the link was released on (above it if there is no room), in the viewport."""
        area = self.view.viewport().rect()
        item = self.view.canvas.nodes.get(target)
        if item is None:
            self.move(area.center() - QPoint(self.width() // 2, self.height() // 2))
            return
        centre = self.view.mapFromScene(item.pos())
        below = self.view.mapFromScene(item.sceneBoundingRect().bottomLeft()).y() + 6
        y = below if below + self.height() <= area.height() - 4 else \
            self.view.mapFromScene(item.sceneBoundingRect().topLeft()).y() - self.height() - 6
        x = min(max(4, centre.x() - self.width() // 2), area.width() - self.width() - 4)
        self.move(x, min(max(4, y), area.height() - self.height() - 4))

    def _apply(self, fix: Fix) -> None:
        try:
            fix.apply()
        except commands.EditRefused as exc:
            self.reason.setText(str(exc))
            return
        self.dismiss()

    def dismiss(self) -> None:
        self.hide()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """The next action dismisses it: Escape, or a press anywhere on the canvas."""
        if self.isVisible():
            kind = event.type()
            if kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) \
                    and event.key() == Qt.Key.Key_Escape:
                self.dismiss()
                return True
            if kind == QEvent.Type.MouseButtonPress and obj is self.view.viewport():
                self.dismiss()
        return False


def install(view: CanvasView) -> RefusalCallout:
    """Show every refused link of the view's scene in a callout; hide it at the next action."""
    callout = RefusalCallout(view)
    scene = view.canvas
    scene.refused.connect(lambda s, t, r: callout.show_refusal(s, t, r, fixes(scene.doc, s, t)))
    scene.doc.edited.connect(callout.dismiss)
    scene.doc.topology_replaced.connect(callout.dismiss)
    view.viewport().installEventFilter(callout)
    view.installEventFilter(callout)
    return callout
