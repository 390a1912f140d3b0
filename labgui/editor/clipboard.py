"""Copy, cut, paste and duplicate: selected nodes travel with the links between them.

The clipboard holds the fragment as JSON under our own MIME type (and as YAML
text, handy in a text editor). Pasting renames the copies so names stay
unique, gives fixed ports up, and offsets them a little more at each paste so
copies never hide each other.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError
from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from engines.topology import refactor
from engines.topology.model import Annotation, AnnotationKind, Link, Node
from engines.topology.refactor import AnyNode
from labgui.canvas.scene import CanvasScene
from labgui.document import commands
from labgui.document.document import TopologyDocument

FRAGMENT_MIME = "application/x-topology-lab-fragment"
STEP = 40.0
CLEARANCE = 100.0  # a pasted node closer than this to an existing one would sit on top of it


def clear_offset(topology: Any, nodes: list[Any], offset: float) -> float:
    """The first diagonal offset from `offset` at which no pasted node covers an existing one."""
    taken = [n.position for n in topology.nodes]
    for _ in range(200):
        spots = [(n.position[0] + offset, n.position[1] + offset) for n in nodes]
        if not any(abs(x - tx) < CLEARANCE and abs(y - ty) < CLEARANCE for x, y in spots for tx, ty in taken):
            return offset
        offset += STEP
    return offset
_NODES = TypeAdapter(list[Node])


def fragment_data(doc: TopologyDocument, names: list[str],
                  notes: Sequence[int] = ()) -> dict[str, list[dict[str, object]]]:
    """Nodes, the links between them, the chosen annotations and the groups of copied nodes only."""
    nodes, links = refactor.fragment(doc.topology, names)
    chosen = set(names)
    anns = [a for i, a in enumerate(doc.topology.annotations) if i in notes
            or (a.kind is AnnotationKind.GROUP and a.nodes and set(a.nodes) <= chosen)]
    return {
        "nodes": [n.model_dump(mode="json") for n in nodes],
        "links": [lk.model_dump(mode="json", by_alias=True) for lk in links],
        "annotations": [a.model_dump(mode="json") for a in anns],
    }


def parse_fragment(data: dict[str, object]) -> tuple[list[AnyNode], list[Link]]:
    nodes = _NODES.validate_python(data.get("nodes", []))
    items = data.get("links", [])
    links = [Link.model_validate(item) for item in (items if isinstance(items, list) else [])]
    return nodes, links


def parse_annotations(data: dict[str, object]) -> list[Annotation]:
    items = data.get("annotations", [])
    return [Annotation.model_validate(item) for item in (items if isinstance(items, list) else [])]


def moved_annotations(anns: list[Annotation], mapping: dict[str, str], offset: float) -> list[Annotation]:
    """Pasted annotations: notes and boxes offset, groups naming the copies (or dropped)."""
    out = []
    for a in anns:
        if a.kind is AnnotationKind.GROUP:
            if a.nodes and all(n in mapping for n in a.nodes):
                out.append(a.model_copy(update={"nodes": [mapping[n] for n in a.nodes]}))
        else:
            out.append(a.model_copy(update={"position": (a.position[0] + offset, a.position[1] + offset)}))
    return out


class ClipboardController:
    """Edit-menu operations on the canvas selection."""

    def __init__(self, scene: CanvasScene) -> None:
        self.scene = scene
        self.doc = scene.doc
        self._pastes = 0

    def copy(self) -> int:
        names = self.scene.selected_nodes()
        notes = self.scene.annotations.selected()
        if not names and not notes:
            return 0
        data = fragment_data(self.doc, names, notes)
        mime = QMimeData()
        mime.setData(FRAGMENT_MIME, json.dumps(data).encode())
        mime.setText(yaml.safe_dump(data, sort_keys=False))
        QGuiApplication.clipboard().setMimeData(mime)
        self._pastes = 0
        return len(names) + len(notes)

    def cut(self) -> int:
        count = self.copy()
        if count and self.scene.selected_nodes():
            commands.push(self.doc, commands.RemoveCommand(self.doc, self.scene.selected_nodes(), []))
        self.scene.annotations.remove(self.scene.annotations.selected())
        return count

    def can_paste(self) -> bool:
        mime = QGuiApplication.clipboard().mimeData()
        return mime is not None and mime.hasFormat(FRAGMENT_MIME)

    def paste(self) -> list[str]:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None or not mime.hasFormat(FRAGMENT_MIME):
            return []
        try:
            data = json.loads(bytes(mime.data(FRAGMENT_MIME).data()))
            nodes, links = parse_fragment(data)
            anns = parse_annotations(data)
        except (ValueError, ValidationError, AttributeError):
            return []
        self._pastes += 1
        return self._add(nodes, links, self._pastes * STEP, "Paste", anns)

    def duplicate(self) -> list[str]:
        nodes, links = refactor.fragment(self.doc.topology, self.scene.selected_nodes())
        return self._add(nodes, links, STEP, "Duplicate")

    def _add(self, nodes: list[AnyNode], links: list[Link], offset: float, text: str,
             anns: list[Annotation] | None = None) -> list[str]:
        if not nodes and not anns:
            return []
        offset = clear_offset(self.doc.topology, nodes, offset)
        copies, new_links = refactor.renamed_copy(self.doc.topology, nodes, links, (offset, offset))
        mapping = {old.name: new.name for old, new in zip(nodes, copies, strict=True)}
        notes = moved_annotations(anns or [], mapping, offset)
        first = len(self.doc.topology.annotations)
        commands.push(self.doc, commands.PasteCommand(self.doc, copies, new_links, text, notes))
        names = [n.name for n in copies]
        self.scene.select(names, [lk.key for lk in new_links])
        self.scene.annotations.select(list(range(first, first + len(notes))))
        return names
