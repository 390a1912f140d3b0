"""The editor's document: an `engines` Topology wrapped in a QObject that says what changed.

The topology stays plain data. Only the undo commands (labgui.document.commands) call
the mutators below; everything else (scene, inspector, problems panel) reads
the topology and listens to the signals. Validation is Qt-free
(`engines.topology.validation`) and runs shortly after a burst of changes, not per edit.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from engines.topology import validation
from engines.topology.model import Link, Step, Topology
from engines.topology.problems import Problem, Severity
from engines.topology.refactor import AnyNode

VALIDATE_DELAY_MS = 120


def empty_topology(name: str = "untitled") -> Topology:
    return Topology(name=name)


class TopologyDocument(QObject):
    """One open topology, its undo stack, its modified state and its problems."""

    node_added = Signal(str)
    node_removed = Signal(str)
    node_changed = Signal(str)  # properties other than name and position
    node_moved = Signal(str)
    node_renamed = Signal(str, str)  # old, new
    link_added = Signal(str)
    link_removed = Signal(str)
    link_changed = Signal(str, str)  # old key, new key (equal unless the key changed)
    topology_changed = Signal()  # topology-level fields: name, description, duration...
    topology_replaced = Signal()
    annotations_changed = Signal()
    modified_changed = Signal(bool)
    problems_changed = Signal()
    edited = Signal()  # any change at all: for autosave and views that redraw wholesale

    def __init__(self, topology: Topology | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._topology = topology or empty_topology()
        self._problems: list[Problem] = []
        self._unsaved_without_history = False
        self._locked = False
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(VALIDATE_DELAY_MS)
        self._timer.timeout.connect(self.validate_now)
        self.edited.connect(self._timer.start)
        self.validate_now()

    # -- reading -----------------------------------------------------------------
    @property
    def topology(self) -> Topology:
        """The live model. Read it; change it only through labgui.document.commands."""
        return self._topology

    @property
    def problems(self) -> list[Problem]:
        return list(self._problems)

    def problems_for_node(self, name: str) -> list[Problem]:
        return [p for p in self._problems if p.node == name]

    def problems_for_link(self, key: str) -> list[Problem]:
        return [p for p in self._problems if p.link == key]

    def error_count(self) -> int:
        return sum(p.severity is Severity.ERROR for p in self._problems)

    def is_modified(self) -> bool:
        return self._unsaved_without_history or not self.undo_stack.isClean()

    # -- locking (run mode) --------------------------------------------------------
    @property
    def locked(self) -> bool:
        """True while a run uses this topology; commands refuse to run then."""
        return self._locked

    def set_locked(self, locked: bool) -> None:
        self._locked = locked

    # -- whole-document operations (not undoable) ----------------------------------
    def replace(self, topology: Topology, *, modified: bool = False) -> None:
        """Show another topology (New, Open, Recover); forget the undo history."""
        self._topology = topology
        self.undo_stack.clear()
        self._unsaved_without_history = modified
        self.topology_replaced.emit()
        self.modified_changed.emit(self.is_modified())
        self.validate_now()

    def mark_saved(self) -> None:
        self._unsaved_without_history = False
        self.undo_stack.setClean()
        self.modified_changed.emit(False)

    def validate_now(self) -> None:
        self._timer.stop()
        self._problems = validation.validate(self._topology)
        self.problems_changed.emit()

    # -- mutators: labgui.document.commands only --------------------------------------------
    def insert_node(self, node: AnyNode, index: int | None = None) -> None:
        if self._topology.has_node(node.name):
            raise ValueError(f"a node named '{node.name}' already exists")
        nodes = self._topology.nodes
        nodes.insert(len(nodes) if index is None else index, node)
        self.node_added.emit(node.name)
        self.edited.emit()

    def take_node(self, name: str) -> tuple[int, AnyNode]:
        nodes = self._topology.nodes
        index = next(i for i, n in enumerate(nodes) if n.name == name)
        node = nodes.pop(index)
        self.node_removed.emit(name)
        self.edited.emit()
        return index, node

    def replace_node(self, name: str, node: AnyNode) -> AnyNode:
        """Swap a node for an edited copy with the same name; return the old one."""
        nodes = self._topology.nodes
        index = next(i for i, n in enumerate(nodes) if n.name == name)
        old, nodes[index] = nodes[index], node
        if old.position != node.position:
            self.node_moved.emit(name)
        if old.model_copy(update={"position": node.position}) != node:
            self.node_changed.emit(name)
            # Links from a client carry its transport: their look depends on it.
            for link in self._topology.links_from(name) + self._topology.links_to(name):
                self.link_changed.emit(link.key, link.key)
        self.edited.emit()
        return old

    def rename_node(self, old: str, node: AnyNode, links: list[Link], scenario: list[Step],
                    expectations: list[str]) -> None:
        """Rename a node and swap in references rewritten by engines.topology.refactor."""
        nodes = self._topology.nodes
        index = next(i for i, n in enumerate(nodes) if n.name == old)
        old_keys = [link.key for link in self._topology.links]
        nodes[index] = node
        self._topology.links[:] = links
        self._topology.scenario[:] = scenario
        self._topology.expectations[:] = expectations
        self.node_renamed.emit(old, node.name)
        for before, link in zip(old_keys, links, strict=True):
            if before != link.key:
                self.link_changed.emit(before, link.key)
        self.edited.emit()

    def insert_link(self, link: Link, index: int | None = None) -> None:
        if self._topology.has_link(link.key):
            raise ValueError(f"a link '{link.key}' already exists")
        links = self._topology.links
        links.insert(len(links) if index is None else index, link)
        self.link_added.emit(link.key)
        self.edited.emit()

    def take_link(self, key: str) -> tuple[int, Link]:
        links = self._topology.links
        index = next(i for i, lk in enumerate(links) if lk.key == key)
        link = links.pop(index)
        self.link_removed.emit(key)
        self.edited.emit()
        return index, link

    def replace_link(self, key: str, link: Link) -> Link:
        links = self._topology.links
        index = next(i for i, lk in enumerate(links) if lk.key == key)
        old, links[index] = links[index], link
        self.link_changed.emit(key, link.key)
        self.edited.emit()
        return old

    def set_topology_field(self, field: str, value: object) -> object:
        """Set a topology-level field (already validated); return the old value."""
        old = getattr(self._topology, field)
        setattr(self._topology, field, value)
        if field == "annotations":
            self.annotations_changed.emit()
        self.topology_changed.emit()
        self.edited.emit()
        return old

    # -- internals -------------------------------------------------------------------
    def _on_clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(self.is_modified())
