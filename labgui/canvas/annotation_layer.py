"""Mirrors `topology.annotations` into items on the canvas scene, and their gestures into commands.

The layer rebuilds its items shortly after the annotations (or the nodes a group
frames) change, never inside an item's own event handler, and keeps what was
selected. Every change goes through `labgui.document.commands.AnnotationsCommand`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QGraphicsScene

from engines.topology.model import Annotation
from labgui.canvas.annotation_items import AnnotationItem
from labgui.canvas.node_item import NodeItem
from labgui.document import commands
from labgui.document.document import TopologyDocument


class AnnotationLayer(QObject):
    """The annotation items of one scene."""

    def __init__(self, scene: QGraphicsScene, doc: TopologyDocument, nodes: dict[str, NodeItem],
                 say: Callable[[str], None]) -> None:
        super().__init__(scene)
        self.scene, self.doc, self.nodes, self.say = scene, doc, nodes, say
        self.items: list[AnnotationItem] = []
        self.editable = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.rebuild)
        for signal in (self.doc.annotations_changed, self.doc.topology_replaced, self.doc.node_added,
                       self.doc.node_removed, self.doc.node_renamed):
            signal.connect(self._timer.start)
        self.rebuild()

    def rebuild(self) -> None:
        self._timer.stop()
        chosen = set(self.selected())
        for item in self.items:
            item.detach()
            self.scene.removeItem(item)
        self.items = []
        for i, ann in enumerate(self.doc.topology.annotations):
            members = [self.nodes[n] for n in ann.nodes if n in self.nodes]
            item = AnnotationItem(i, ann, self.commit, members)
            item.set_editable(self.editable)
            self.scene.addItem(item)
            item.setSelected(i in chosen)
            self.items.append(item)

    def flush(self) -> None:
        """Rebuild now if a rebuild is due (tests, and before reading items)."""
        if self._timer.isActive():
            self.rebuild()

    def set_editable(self, editable: bool) -> None:
        self.editable = editable
        for item in self.items:
            item.set_editable(editable)

    def selected(self) -> list[int]:
        return [item.index for item in self.items if item.isSelected()]

    def select(self, indices: list[int]) -> None:
        self.flush()
        for item in self.items:
            item.setSelected(item.index in indices)

    # -- edits -----------------------------------------------------------------------------
    def commit(self, index: int, ann: Annotation) -> None:
        """One annotation changed by a gesture (moved, resized, retitled): one undo step."""
        anns = list(self.doc.topology.annotations)
        if index >= len(anns) or anns[index] == ann:
            return
        what = "Move" if ann.position != anns[index].position else \
            "Resize" if ann.size != anns[index].size else "Edit"
        anns[index] = ann
        self.push(f"{what} {ann.kind.value}", anns)

    def commit_moves(self) -> None:
        """Notes and boxes dragged (alone or with a selection): one undo step for all."""
        anns = list(self.doc.topology.annotations)
        moved = 0
        for item in self.items:
            pos = (item.pos().x(), item.pos().y())
            if not item.is_group and item.index < len(anns) and pos != anns[item.index].position:
                anns[item.index] = anns[item.index].model_copy(update={"position": pos})
                moved += 1
        if moved:
            self.push(f"Move {moved} annotation{'s' if moved > 1 else ''}", anns)

    def add(self, ann: Annotation) -> int:
        self.push(f"Add {ann.kind.value}", [*self.doc.topology.annotations, ann])
        index = len(self.doc.topology.annotations) - 1
        self.scene.clearSelection()
        self.select([index])
        return index

    def remove(self, indices: list[int]) -> None:
        doomed = set(indices)
        anns = [a for i, a in enumerate(self.doc.topology.annotations) if i not in doomed]
        count = len(self.doc.topology.annotations) - len(anns)
        if count:
            self.push(f"Delete {count} annotation{'s' if count > 1 else ''}", anns)

    def push(self, text: str, anns: list[Annotation]) -> None:
        try:
            commands.push(self.doc, commands.AnnotationsCommand(self.doc, text, anns))
        except commands.EditRefused as exc:
            self.say(str(exc))
