"""The canvas scene: mirrors the document into node and link items, turns gestures into commands.

Like orange-canvas-core's CanvasScene, it never writes the topology itself:
a drag ends in one MoveNodesCommand, a drag from a node's handle (or any drag
with Shift held) ends in a ConnectCommand, or in a status message saying why
`engines.topology.validation.link_refusal` will not have it.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QLineF, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPen
from PySide6.QtWidgets import QGraphicsLineItem, QGraphicsScene, QGraphicsSceneMouseEvent

from engines.topology.model import Link
from engines.topology.validation import link_refusal
from engines.topology.vocabulary import Transport
from labgui.canvas import link_fixes, theme
from labgui.canvas.annotation_layer import AnnotationLayer
from labgui.canvas.link_item import LinkItem
from labgui.canvas.node_item import GRID, NodeItem
from labgui.document import commands
from labgui.document.document import TopologyDocument

NUDGE = "nudge"


class CanvasScene(QGraphicsScene):
    """Node and link items for one document."""

    message = Signal(str)  # for the status bar
    refused = Signal(str, str, str)  # source, target, why: the refusal callout shows it with fixes
    node_activated = Signal(str)  # double-click: edit it
    context_requested = Signal(object, object)  # item or None, screen QPoint

    def __init__(self, document: TopologyDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self.nodes: dict[str, NodeItem] = {}
        self.links: dict[str, LinkItem] = {}
        self.editable = True
        self.snap = True
        self._link_from: NodeItem | None = None
        self._preview: QGraphicsLineItem | None = None
        self._hinted: NodeItem | None = None
        self._pressed = False
        d = document
        d.node_added.connect(self._add_node)
        d.node_removed.connect(self._remove_node)
        d.node_changed.connect(self._refresh_node)
        d.node_moved.connect(self._move_node)
        d.node_renamed.connect(self._rename_node)
        d.link_added.connect(self._add_link)
        d.link_removed.connect(self._remove_link)
        d.link_changed.connect(self._change_link)
        d.topology_replaced.connect(self.rebuild)
        d.problems_changed.connect(self._show_problems)
        self.selectionChanged.connect(self._clear_marks)
        self.rebuild()
        self.annotations = AnnotationLayer(self, d, self.nodes, self.message.emit)  # notes, boxes, groups

    # -- lookups and selection ---------------------------------------------------------
    def node_item(self, name: str) -> NodeItem:
        return self.nodes[name]

    def link_item(self, key: str) -> LinkItem:
        return self.links[key]

    def selected_nodes(self) -> list[str]:
        order = [n.name for n in self.doc.topology.nodes]
        chosen = {i.name for i in self.selectedItems() if isinstance(i, NodeItem)}
        return [n for n in order if n in chosen]

    def selected_links(self) -> list[str]:
        order = [lk.key for lk in self.doc.topology.links]
        chosen = {i.key for i in self.selectedItems() if isinstance(i, LinkItem)}
        return [k for k in order if k in chosen]

    def select(self, nodes: Sequence[str] = (), links: Sequence[str] = ()) -> None:
        self.blockSignals(True)
        self.clearSelection()
        for name in nodes:
            if name in self.nodes:
                self.nodes[name].setSelected(True)
        for key in links:
            if key in self.links:
                self.links[key].setSelected(True)
        self.blockSignals(False)
        self.selectionChanged.emit()

    def mark(self, node: str | None = None, link: str | None = None) -> None:
        """Select and flag the node or link a problem concerns."""
        self.select([node] if node else [], [link] if link else [])
        if node in self.nodes:
            self.nodes[node].set_marked(True)
        if link in self.links:
            self.links[link].set_marked(True)

    def _clear_marks(self) -> None:
        items: list[NodeItem | LinkItem] = [*self.nodes.values(), *self.links.values()]
        for item in items:
            if item.marked and not item.isSelected():
                item.set_marked(False)

    # -- locking (run mode) ------------------------------------------------------------------
    def set_editable(self, editable: bool) -> None:
        self.editable = editable
        self.annotations.set_editable(editable)
        for item in self.nodes.values():
            item.setFlag(NodeItem.GraphicsItemFlag.ItemIsMovable, editable)
            item.update()

    # -- mirroring the document ------------------------------------------------------------------
    def rebuild(self) -> None:
        self._cancel_link()
        for item in [*self.links.values(), *self.nodes.values()]:
            self.removeItem(item)
        self.nodes.clear()
        self.links.clear()
        for node in self.doc.topology.nodes:
            self._add_node(node.name)
        for link in self.doc.topology.links:
            self._add_link(link.key)
        self._show_problems()

    def _add_node(self, name: str) -> None:
        node = self.doc.topology.node(name)
        item = NodeItem(name, node.kind, theme.subtitle(self.doc.topology, node),
                        theme.role(self.doc.topology, node))
        item.setFlag(NodeItem.GraphicsItemFlag.ItemIsMovable, self.editable)
        self._place(item, node.position)
        self.nodes[name] = item
        self.addItem(item)

    def _place(self, item: NodeItem, position: tuple[float, float]) -> None:
        item.snap = False  # show the file's position exactly; snapping is for drags
        item.setPos(QPointF(*position))
        item.snap = self.snap

    def _remove_node(self, name: str) -> None:
        item = self.nodes.pop(name)
        self.removeItem(item)

    def _refresh_node(self, name: str) -> None:
        node = self.doc.topology.node(name)
        self.nodes[name].set_content(name, theme.subtitle(self.doc.topology, node),
                                     theme.role(self.doc.topology, node))

    def _move_node(self, name: str) -> None:
        self._place(self.nodes[name], self.doc.topology.node(name).position)

    def _rename_node(self, old: str, new: str) -> None:
        item = self.nodes.pop(old)
        self.nodes[new] = item
        self._refresh_node_named(item, new)

    def _refresh_node_named(self, item: NodeItem, name: str) -> None:
        node = self.doc.topology.node(name)
        item.set_content(name, theme.subtitle(self.doc.topology, node), theme.role(self.doc.topology, node))

    def _add_link(self, key: str) -> None:
        link = self.doc.topology.link(key)
        item = LinkItem(key, self.nodes[link.source], self.nodes[link.target])
        self.links[key] = item
        self.addItem(item)
        self._style_link(item, link)
        self._relane(item)

    def _remove_link(self, key: str) -> None:
        item = self.links.pop(key)
        item.detach()
        self.removeItem(item)
        self._relane(item)

    def _change_link(self, old: str, new: str) -> None:
        item = self.links.pop(old)
        self.links[new] = item
        link = self.doc.topology.link(new)
        ends = (self.nodes[link.source], self.nodes[link.target])
        if (item.source, item.target) != ends:
            item.detach()
            item.source, item.target = ends
            for end in ends:
                end.links.append(item)
        self._style_link(item, link)

    def _style_link(self, item: LinkItem, link: Link) -> None:
        transport = self.doc.topology.link_transport(link)
        caption = f"{transport.value if transport else 'no transport'}"
        if link.channel:
            caption += f" · channel {link.channel}"
        item.set_content(link.key, transport, caption)

    def _relane(self, item: LinkItem) -> None:
        """Spread links that join the same two nodes so each stays visible."""
        pair = {item.source.name, item.target.name}
        same = [li for li in self.links.values() if {li.source.name, li.target.name} == pair]
        for i, li in enumerate(same):
            li.lane = (i - (len(same) - 1) / 2) * 18
            li.adjust()

    def _refresh_roles(self) -> None:
        """A service's mail role follows its links and its clients' transport: redraw those that changed."""
        topology = self.doc.topology
        for name, item in self.nodes.items():
            node = topology.node(name) if topology.has_node(name) else None
            if node is not None and (item.glyph != theme.role(topology, node)
                                     or item.subtitle != theme.subtitle(topology, node)):
                self._refresh_node(name)

    def _show_problems(self) -> None:
        self._refresh_roles()
        for name, item in self.nodes.items():
            item.set_problems(self.doc.problems_for_node(name))
        for key, link_item in self.links.items():
            link_item.set_problems(self.doc.problems_for_link(key))

    # -- gestures ---------------------------------------------------------------------------
    def node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                return item
        return None

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        item = self.node_at(event.scenePos())
        if self.editable and item is not None and event.button() == Qt.MouseButton.LeftButton:
            on_handle = item.handle_contains(item.mapFromScene(event.scenePos()))
            if on_handle or event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self._start_link(item, event.scenePos())
                event.accept()
                return
        self._pressed = True
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._link_from is not None:
            self._drag_link(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._link_from is not None:
            self._finish_link(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if self._pressed:
            self._pressed = False
            self._commit_moves()

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        item = self.node_at(event.scenePos())
        if item is not None:
            self.node_activated.emit(item.name)
        super().mouseDoubleClickEvent(event)

    def contextMenuEvent(self, event: object) -> None:
        pos = event.scenePos()  # type: ignore[attr-defined]
        hit = next((i for i in self.items(pos) if isinstance(i, (NodeItem, LinkItem))), None)
        if hit is not None and not hit.isSelected():
            self.select([hit.name] if isinstance(hit, NodeItem) else [],
                        [hit.key] if isinstance(hit, LinkItem) else [])
        self.context_requested.emit(hit, event.screenPos())  # type: ignore[attr-defined]

    def keyPressEvent(self, event: QKeyEvent) -> None:
        steps = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1),
                 Qt.Key.Key_Down: (0, 1)}
        names = self.selected_nodes()
        key = Qt.Key(event.key())
        if key in steps and names and self.editable and self.focusItem() is None:
            dx, dy = steps[key]
            scale = GRID * (5 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1)
            topo = self.doc.topology
            moves = {n: (topo.node(n).position, (topo.node(n).position[0] + dx * scale,
                                                 topo.node(n).position[1] + dy * scale)) for n in names}
            commands.push(self.doc, commands.MoveNodesCommand(self.doc, moves, merge_key=NUDGE))
            event.accept()
            return
        super().keyPressEvent(event)

    def _commit_moves(self) -> None:
        topo = self.doc.topology
        moves = {}
        for name, item in self.nodes.items():
            old = topo.node(name).position
            new = (item.pos().x(), item.pos().y())
            if new != old:
                moves[name] = (old, new)
        if moves:
            commands.push(self.doc, commands.MoveNodesCommand(self.doc, moves))
        self.annotations.commit_moves()

    # -- drag to link ------------------------------------------------------------------------------
    def _start_link(self, item: NodeItem, pos: QPointF) -> None:
        self._link_from = item
        self._preview = QGraphicsLineItem(QLineF(item.pos(), pos))
        pen = QPen(theme.ACCENT, 2, Qt.PenStyle.DashLine)
        self._preview.setPen(pen)
        self._preview.setZValue(5)
        self.addItem(self._preview)
        self.message.emit(f"Linking from '{item.name}': release on the node it sends to")

    def _drag_link(self, pos: QPointF) -> None:
        assert self._link_from is not None and self._preview is not None
        self._preview.setLine(QLineF(self._link_from.pos(), pos))
        target = self.node_at(pos)
        if target is self._link_from:
            target = None
        if target is not self._hinted:
            if self._hinted is not None:
                self._hinted.set_link_hint(None)
            self._hinted = target
            if target is not None:
                refusal = self.refusal(self._link_from.name, target.name)
                fix = self.transport_fix(self._link_from.name, target.name) if refusal else None
                target.set_link_hint(refusal is None or fix is not None)
                if refusal and fix is not None:
                    self.message.emit(f"Release to link '{self._link_from.name}' → '{target.name}': "
                                      f"'{self._link_from.name}' will speak {fix.value}")
                else:
                    self.message.emit(f"Cannot link: {refusal}" if refusal else
                                      f"Release to link '{self._link_from.name}' → '{target.name}'")

    def refusal(self, source: str, target: str) -> str | None:
        """Why the editor will not draw this link, in the validator's words."""
        reason = link_refusal(self.doc.topology, source, target)
        if reason is None and self.doc.topology.has_link(f"{source}->{target}"):
            reason = f"'{source}' is already linked to '{target}'"
        return reason

    def _finish_link(self, pos: QPointF) -> None:
        source = self._link_from
        target = self.node_at(pos)
        self._cancel_link()
        if source is None:
            return
        if target is None or target is source:
            self.message.emit("Link cancelled: release on another node to link")
            return
        self.connect_nodes(source.name, target.name)

    def transport_fix(self, source: str, target: str) -> Transport | None:
        """The transport that makes this link valid for a client with no link yet (link_fixes)."""
        return link_fixes.transport_fix(self.doc.topology, source, target)

    def connect_nodes(self, source: str, target: str) -> bool:
        """Link two nodes if the rules allow it; a client that speaks the wrong transport and has
        no link yet is switched to the one that fits (one undo step, and the status bar says so);
        otherwise say why in the status bar."""
        reason = self.refusal(source, target)
        fix = self.transport_fix(source, target) if reason is not None else None
        if reason is not None and fix is not None:
            stack = self.doc.undo_stack
            stack.beginMacro(f"Link {source} → {target} (switched to {fix.value})")
            try:
                commands.change_node(self.doc, source, "transport", fix)
                commands.push(self.doc, commands.ConnectCommand(self.doc, Link(source=source, target=target)))
            except commands.EditRefused as exc:
                stack.endMacro()
                self.message.emit(str(exc))
                return False
            stack.endMacro()
            self.message.emit(f"Linked {source} → {target}: switched '{source}' to {fix.value}, the "
                              f"transport that can reach a {self.doc.topology.node(target).kind.value} "
                              "(Undo takes both back)")
            return True
        if reason is not None:
            self.message.emit(f"Cannot link {source} → {target}: {reason}")
            self.refused.emit(source, target, reason)
            return False
        try:
            commands.push(self.doc, commands.ConnectCommand(self.doc, Link(source=source, target=target)))
        except commands.EditRefused as exc:
            self.message.emit(str(exc))
            return False
        self.message.emit(f"Linked {source} → {target}")
        return True

    def _cancel_link(self) -> None:
        if self._preview is not None:
            self.removeItem(self._preview)
        if self._hinted is not None:
            self._hinted.set_link_hint(None)
        self._link_from = self._preview = self._hinted = None
