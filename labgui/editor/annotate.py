"""Annotate the canvas: add notes, boxes and groups from the menu, toolbar, right-click and keyboard.

`install(window)` adds Edit > Annotate (Ctrl+Alt+N note, Ctrl+Alt+B box, Ctrl+G
group the selected nodes, F2 edit the selected annotation's text), an Annotate
button on the toolbar and the same entries in the canvas's right-click menu.
Delete and the clipboard take selected annotations along with nodes. The items
and their commands live in labgui.canvas.annotation_layer.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QPoint, QPointF
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QGraphicsView, QMenu, QToolButton

from engines.topology.model import Annotation, AnnotationKind
from labgui.canvas.annotation_items import AnnotationItem
from labgui.canvas.annotation_layer import AnnotationLayer

NOTE_TEXT = "Note: double-click to write"


class AnnotationTools(QObject):
    """The annotation actions of one editor window."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.layer: AnnotationLayer = window.scene.annotations
        self._spot: QPointF | None = None  # where the right-click menu was opened

        def make(text: str, shortcut: str, tip: str) -> QAction:
            action = QAction(text, window)
            action.setShortcut(QKeySequence(shortcut))
            action.setToolTip(tip)
            action.setStatusTip(tip)
            window.addAction(action)
            return action

        self.note = make("Add &Note", "Ctrl+Alt+N", "Add a note (text) on the canvas")
        self.box = make("Add &Box", "Ctrl+Alt+B", "Add a titled box to frame part of the canvas")
        self.group = make("&Group Selected Nodes", "Ctrl+G",
                          "Draw a titled frame around the selected nodes; it moves with them")
        self.edit = make("&Edit Annotation Text", "F2", "Edit the selected note's text or box's title")
        self.note.triggered.connect(lambda: self.add(AnnotationKind.NOTE))
        self.box.triggered.connect(lambda: self.add(AnnotationKind.BOX))
        self.group.triggered.connect(self.group_selection)
        self.edit.triggered.connect(self.edit_selected)
        self.menu = QMenu("A&nnotate", window)
        self.menu.addActions([self.note, self.box, self.group, self.edit])

    def actions(self) -> list[QAction]:
        return [self.note, self.box, self.group, self.edit]

    # -- adding -----------------------------------------------------------------------------
    def _place(self) -> QPointF:
        if self._spot is not None:
            spot, self._spot = self._spot, None
            return spot
        view: QGraphicsView = self.window.view
        centre = view.mapToScene(view.viewport().rect().center())
        nodes = [item.sceneBoundingRect() for item in self.window.scene.nodes.values()]
        if not nodes:
            return centre - QPointF(110, 40)
        below = nodes[0]
        for rect in nodes[1:]:
            below = below.united(rect)
        return QPointF(centre.x() - 110, below.bottom() + 30)  # clear of the nodes, under them

    def add(self, kind: AnnotationKind) -> int | None:
        if self.window.doc.locked:
            self.window.show_message("Running — stop the run to annotate")
            return None
        spot = self._place()
        text = NOTE_TEXT if kind is AnnotationKind.NOTE else "Title"
        index = self.layer.add(Annotation(kind=kind, text=text,
                                          position=(round(spot.x() / 10) * 10.0, round(spot.y() / 10) * 10.0)))
        self.edit_selected()
        return index

    def group_selection(self) -> int | None:
        names = self.window.scene.selected_nodes()
        if not names:
            self.window.show_message("Select the nodes to group first (drag a rubber band around them)")
            return None
        if self.window.doc.locked:
            return None
        index = self.layer.add(Annotation(kind=AnnotationKind.GROUP, text="Group", nodes=names))
        self.edit_selected()
        return index

    def edit_selected(self) -> None:
        self.layer.flush()
        chosen = [i for i in self.layer.items if i.isSelected()]
        if len(chosen) == 1:
            chosen[0].edit_text()

    # -- hooks into the window's menus and actions -------------------------------------------
    def on_context(self, item: object, screen_pos: QPoint) -> None:
        """Before the window builds its menu: remember the spot, select an annotation clicked on."""
        view = self.window.view
        self._spot = view.mapToScene(view.viewport().mapFromGlobal(screen_pos))
        if item is None:
            hit = next((i for i in self.window.scene.items(self._spot) if isinstance(i, AnnotationItem)), None)
            if hit is not None and not hit.isSelected():
                self.window.scene.clearSelection()
                hit.setSelected(True)

    def extend_menu(self, item: object, menu: QMenu) -> None:
        """The right-click menu's annotation entries (editing only)."""
        menu.addSeparator()
        if item is None and self.layer.selected():
            menu.addActions([self.edit, self.window.editor_actions.copy, self.window.editor_actions.delete])
            return
        menu.addActions([self.note, self.box] + ([self.group] if self.window.scene.selected_nodes() else []))

    def delete_selected(self) -> None:
        self.layer.remove(self.layer.selected())

    def update_actions(self) -> None:
        editable = not self.window.doc.locked
        has = bool(self.layer.selected())
        for action in (self.note, self.box):
            action.setEnabled(editable)
        self.group.setEnabled(editable and bool(self.window.scene.selected_nodes()))
        self.edit.setEnabled(editable and len(self.layer.selected()) == 1)
        a = self.window.editor_actions
        if has:
            a.copy.setEnabled(True)
            a.delete.setEnabled(editable)
            a.cut.setEnabled(editable)


def install(window: Any) -> AnnotationTools:
    """Add the annotation tools to the window: Edit > Annotate, a toolbar button, the hooks."""
    tools = AnnotationTools(window)
    window.edit_menu.addMenu(tools.menu)
    button = QToolButton(window.toolbar)
    button.setText("Annotate")
    button.setToolTip("Add a note, a box or a group (right-click the canvas for the same)")
    button.setMenu(tools.menu)
    button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    window.toolbar.addWidget(button)
    window.scene.context_requested.connect(tools.on_context)  # before the window's menu opens
    window.editor_actions.delete.triggered.connect(tools.delete_selected)
    return tools
