"""Undoable edits: the only code that writes to a TopologyDocument.

Each command is a list of small reversible operations run forward by redo()
and backward by undo(), so compound edits (delete with links, paste, rename
with references) undo exactly. Values are validated through pydantic before a
command is built: an invalid value raises `EditRefused` with a message fit for
the user and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from PySide6.QtGui import QUndoCommand

from engines.topology import annotations as ann_rules
from engines.topology import layout, refactor
from engines.topology.model import Annotation, Link, Topology
from engines.topology.refactor import AnyNode
from labgui.document.document import TopologyDocument

Point = tuple[float, float]
MOVE_ID = 1001
CHANGE_ID = 1002


class EditRefused(ValueError):
    """An edit that would make the model invalid or ambiguous; the message says why."""


def friendly(exc: ValidationError) -> str:
    """Pydantic's first error, worded for a form: 'rate: must be >= 0'."""
    err = exc.errors()[0]
    message = str(err["msg"]).removeprefix("Value error, ")
    if err.get("type") == "string_pattern_mismatch":  # never a raw regex in front of a person
        message = "use letters, digits, '-' and '_', starting with a letter"
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {message}" if where else message


# -- operations --------------------------------------------------------------------

class _Op:
    def do(self, doc: TopologyDocument) -> None:
        raise NotImplementedError

    def undo(self, doc: TopologyDocument) -> None:
        raise NotImplementedError


class _InsertNode(_Op):
    def __init__(self, node: AnyNode) -> None:
        self.node = node

    def do(self, doc: TopologyDocument) -> None:
        doc.insert_node(self.node)

    def undo(self, doc: TopologyDocument) -> None:
        doc.take_node(self.node.name)


class _TakeNode(_Op):
    def __init__(self, name: str) -> None:
        self.name = name
        self.index = 0
        self.node: AnyNode | None = None

    def do(self, doc: TopologyDocument) -> None:
        self.index, self.node = doc.take_node(self.name)

    def undo(self, doc: TopologyDocument) -> None:
        assert self.node is not None
        doc.insert_node(self.node, self.index)


class _InsertLink(_Op):
    def __init__(self, link: Link) -> None:
        self.link = link

    def do(self, doc: TopologyDocument) -> None:
        doc.insert_link(self.link)

    def undo(self, doc: TopologyDocument) -> None:
        doc.take_link(self.link.key)


class _TakeLink(_Op):
    def __init__(self, key: str) -> None:
        self.key = key
        self.index = 0
        self.link: Link | None = None

    def do(self, doc: TopologyDocument) -> None:
        self.index, self.link = doc.take_link(self.key)

    def undo(self, doc: TopologyDocument) -> None:
        assert self.link is not None
        doc.insert_link(self.link, self.index)


class _ReplaceNode(_Op):
    def __init__(self, name: str, new: AnyNode) -> None:
        self.name, self.new = name, new
        self.old: AnyNode | None = None

    def do(self, doc: TopologyDocument) -> None:
        old = doc.replace_node(self.name, self.new)
        if self.old is None:
            self.old = old

    def undo(self, doc: TopologyDocument) -> None:
        assert self.old is not None
        doc.replace_node(self.name, self.old)


class _ReplaceLink(_Op):
    def __init__(self, key: str, new: Link) -> None:
        self.key, self.new = key, new
        self.old: Link | None = None

    def do(self, doc: TopologyDocument) -> None:
        self.old = doc.replace_link(self.key, self.new)

    def undo(self, doc: TopologyDocument) -> None:
        assert self.old is not None
        doc.replace_link(self.new.key, self.old)


class _RenameNode(_Op):
    def __init__(self, old: str, new: str) -> None:
        self.old_name, self.new_name = old, new
        self.before: tuple[Any, ...] | None = None

    def do(self, doc: TopologyDocument) -> None:
        topo = doc.topology
        node = topo.node(self.old_name)
        self.before = (node, list(topo.links), list(topo.scenario), list(topo.expectations))
        links, scenario, expectations = refactor.rename_references(topo, self.old_name, self.new_name)
        doc.rename_node(self.old_name, node.model_copy(update={"name": self.new_name}),
                        links, scenario, expectations)

    def undo(self, doc: TopologyDocument) -> None:
        assert self.before is not None
        doc.rename_node(self.new_name, *self.before)


class _SetField(_Op):
    def __init__(self, field: str, value: Any) -> None:
        self.field, self.value = field, value
        self.old: Any = None

    def do(self, doc: TopologyDocument) -> None:
        self.old = doc.set_topology_field(self.field, self.value)

    def undo(self, doc: TopologyDocument) -> None:
        doc.set_topology_field(self.field, self.old)


# -- commands ------------------------------------------------------------------------

class EditCommand(QUndoCommand):
    """A named list of operations; redo runs them forward, undo backward."""

    def __init__(self, doc: TopologyDocument, text: str, ops: Sequence[_Op]) -> None:
        super().__init__(text)
        self.doc = doc
        self.ops = ops

    def redo(self) -> None:
        for op in self.ops:
            op.do(self.doc)

    def undo(self) -> None:
        for op in reversed(self.ops):
            op.undo(self.doc)


class AddNodeCommand(EditCommand):
    def __init__(self, doc: TopologyDocument, node: AnyNode) -> None:
        super().__init__(doc, f"Add {node.kind.value} '{node.name}'", [_InsertNode(node)])


class RemoveCommand(EditCommand):
    """Delete nodes with every link touching them, and the given links."""

    def __init__(self, doc: TopologyDocument, nodes: list[str], links: list[str]) -> None:
        topo = doc.topology
        doomed = set(nodes)
        keys = [lk.key for lk in topo.links
                if lk.key in links or lk.source in doomed or lk.target in doomed]
        ops: list[_Op] = [_TakeLink(k) for k in keys]
        ops += [_TakeNode(n.name) for n in topo.nodes if n.name in doomed]
        kept = ann_rules.without_nodes(topo.annotations, doomed)
        if kept != topo.annotations:  # groups lose deleted members
            ops.append(_SetField("annotations", kept))
        if nodes:
            text = f"Delete {len(nodes)} node{'s' if len(nodes) > 1 else ''}"
        else:
            text = f"Disconnect {', '.join(keys)}"
        super().__init__(doc, text, ops)


class DisconnectCommand(RemoveCommand):
    def __init__(self, doc: TopologyDocument, keys: list[str]) -> None:
        super().__init__(doc, [], keys)


class ConnectCommand(EditCommand):
    def __init__(self, doc: TopologyDocument, link: Link) -> None:
        super().__init__(doc, f"Connect {link.source} → {link.target}", [_InsertLink(link)])


class MoveNodesCommand(EditCommand):
    """Move nodes. Commands with the same `merge_key` (one drag, one nudge burst) merge."""

    def __init__(self, doc: TopologyDocument, moves: dict[str, tuple[Point, Point]],
                 text: str = "", merge_key: object = None) -> None:
        topo = doc.topology
        ops = [_ReplaceNode(name, topo.node(name).model_copy(update={"position": new}))
               for name, (_old, new) in moves.items()]
        count = len(moves)
        super().__init__(doc, text or f"Move {count} node{'s' if count > 1 else ''}", ops)
        self.merge_key = merge_key

    def id(self) -> int:
        return MOVE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, MoveNodesCommand) or self.merge_key is None \
                or other.merge_key != self.merge_key:
            return False
        mine = {op.name: op for op in self.ops if isinstance(op, _ReplaceNode)}
        theirs = [op for op in other.ops if isinstance(op, _ReplaceNode)]
        if set(mine) != {op.name for op in theirs}:
            return False
        for op in theirs:
            mine[op.name].new = op.new
        self.setObsolete(all(op.old == op.new for op in mine.values()))
        return True


class ChangeNodeCommand(EditCommand):
    """Change one field of a node; consecutive changes of the same field merge."""

    def __init__(self, doc: TopologyDocument, name: str, field: str, new: AnyNode) -> None:
        super().__init__(doc, f"Change {field} of '{name}'", [_ReplaceNode(name, new)])
        self.target = (name, field)

    def id(self) -> int:
        return CHANGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, ChangeNodeCommand) or other.target != self.target:
            return False
        mine, theirs = self.ops[0], other.ops[0]
        assert isinstance(mine, _ReplaceNode) and isinstance(theirs, _ReplaceNode)
        mine.new = theirs.new
        self.setObsolete(mine.old == mine.new)
        return True


class RenameNodeCommand(EditCommand):
    def __init__(self, doc: TopologyDocument, old: str, new: str) -> None:
        ops: list[_Op] = [_RenameNode(old, new)]
        if any(old in a.nodes for a in doc.topology.annotations):
            ops.append(_SetField("annotations", ann_rules.renamed(doc.topology.annotations, old, new)))
        super().__init__(doc, f"Rename '{old}' to '{new}'", ops)


class ChangeLinkCommand(EditCommand):
    def __init__(self, doc: TopologyDocument, key: str, field: str, new: Link) -> None:
        ops: list[_Op] = [_ReplaceLink(key, new)]
        if new.key != key:
            scenario, expectations = refactor.rename_link_references(doc.topology, key, new.key)
            ops += [_SetField("scenario", scenario), _SetField("expectations", expectations)]
        super().__init__(doc, f"Change {field} of link {key}", ops)


class ChangeTopologyCommand(EditCommand):
    def __init__(self, doc: TopologyDocument, field: str, value: Any) -> None:
        super().__init__(doc, f"Change topology {field}", [_SetField(field, value)])


class AnnotationsCommand(EditCommand):
    """Replace the list of annotations (add, edit, move, resize, delete: `annotation_edits`)."""

    def __init__(self, doc: TopologyDocument, text: str, new: list[Annotation]) -> None:
        super().__init__(doc, text, [_SetField("annotations", new)])


class PasteCommand(EditCommand):
    """Add copied nodes and the links between them (already renamed and offset)."""

    def __init__(self, doc: TopologyDocument, nodes: list[AnyNode], links: list[Link],
                 text: str = "Paste", notes: Sequence[Annotation] = ()) -> None:
        ops: list[_Op] = [_InsertNode(n) for n in nodes]
        ops += [_InsertLink(lk) for lk in links]
        if notes:
            ops.append(_SetField("annotations", [*doc.topology.annotations, *notes]))
        what = f"{len(nodes)} node{'s' if len(nodes) != 1 else ''}" if nodes or not notes else \
            f"{len(notes)} annotation{'s' if len(notes) != 1 else ''}"
        super().__init__(doc, f"{text} {what}", ops)


class AutoLayoutCommand(MoveNodesCommand):
    def __init__(self, doc: TopologyDocument) -> None:
        topo = doc.topology
        moves = {name: (topo.node(name).position, pos)
                 for name, pos in layout.columns(topo).items() if topo.node(name).position != pos}
        super().__init__(doc, moves, text="Auto-layout")


# -- validated builders: what the editor calls --------------------------------------------

def node_with(node: AnyNode, field: str, value: Any) -> AnyNode:
    """A copy of `node` with one field changed, validated; raises EditRefused."""
    data = node.model_dump()
    data[field] = value
    try:
        return type(node).model_validate(data)
    except ValidationError as exc:
        raise EditRefused(friendly(exc)) from None


def link_with(link: Link, field: str, value: Any) -> Link:
    data = link.model_dump()
    data[field] = value
    try:
        return Link.model_validate(data)
    except ValidationError as exc:
        raise EditRefused(friendly(exc)) from None


def topology_with(topology: Topology, field: str, value: Any) -> Any:
    """The validated value of a topology-level field (name, description, duration_s...)."""
    data = topology.model_dump()
    data[field] = value
    try:
        return getattr(Topology.model_validate(data), field)
    except ValidationError as exc:
        raise EditRefused(friendly(exc)) from None


def push(doc: TopologyDocument, command: QUndoCommand) -> None:
    """Run a command through the undo stack, unless a run has locked the document."""
    if doc.locked:
        raise EditRefused("the topology is running: stop the run to edit it")
    doc.undo_stack.push(command)


def change_node(doc: TopologyDocument, name: str, field: str, value: Any) -> None:
    """Validate and apply a change to one field of a node (a rename updates references)."""
    node = doc.topology.node(name)
    if field == "name":
        if value == name:
            return
        node_with(node, "name", value)
        if doc.topology.has_node(value):
            raise EditRefused(f"name: '{value}' is already the name of another node")
        push(doc, RenameNodeCommand(doc, name, value))
        return
    new = node_with(node, field, value)
    if new != node:
        push(doc, ChangeNodeCommand(doc, name, field, new))


def change_link(doc: TopologyDocument, key: str, field: str, value: Any) -> None:
    link = doc.topology.link(key)
    new = link_with(link, field, value)
    if new == link:
        return
    if new.key != key and doc.topology.has_link(new.key):
        raise EditRefused(f"name: a link called '{new.key}' already exists")
    push(doc, ChangeLinkCommand(doc, key, field, new))


def change_topology(doc: TopologyDocument, field: str, value: Any) -> None:
    value = topology_with(doc.topology, field, value)
    if value != getattr(doc.topology, field):
        push(doc, ChangeTopologyCommand(doc, field, value))
