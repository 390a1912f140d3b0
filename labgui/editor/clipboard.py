"""Copy, cut, paste and duplicate: selected nodes travel with the links between them.

The clipboard holds the fragment as JSON under our own MIME type (and as YAML
text, handy in a text editor). Pasting renames the copies so names stay
unique, gives fixed ports up, and offsets them a little more at each paste so
copies never hide each other.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError
from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from engines.topology import refactor
from engines.topology.model import Link, Node
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


def fragment_data(doc: TopologyDocument, names: list[str]) -> dict[str, list[dict[str, object]]]:
    nodes, links = refactor.fragment(doc.topology, names)
    return {
        "nodes": [n.model_dump(mode="json") for n in nodes],
        "links": [lk.model_dump(mode="json", by_alias=True) for lk in links],
    }


def parse_fragment(data: dict[str, object]) -> tuple[list[AnyNode], list[Link]]:
    nodes = _NODES.validate_python(data.get("nodes", []))
    items = data.get("links", [])
    links = [Link.model_validate(item) for item in (items if isinstance(items, list) else [])]
    return nodes, links


class ClipboardController:
    """Edit-menu operations on the canvas selection."""

    def __init__(self, scene: CanvasScene) -> None:
        self.scene = scene
        self.doc = scene.doc
        self._pastes = 0

    def copy(self) -> int:
        names = self.scene.selected_nodes()
        if not names:
            return 0
        data = fragment_data(self.doc, names)
        mime = QMimeData()
        mime.setData(FRAGMENT_MIME, json.dumps(data).encode())
        mime.setText(yaml.safe_dump(data, sort_keys=False))
        QGuiApplication.clipboard().setMimeData(mime)
        self._pastes = 0
        return len(names)

    def cut(self) -> int:
        count = self.copy()
        if count:
            commands.push(self.doc, commands.RemoveCommand(self.doc, self.scene.selected_nodes(), []))
        return count

    def can_paste(self) -> bool:
        mime = QGuiApplication.clipboard().mimeData()
        return mime is not None and mime.hasFormat(FRAGMENT_MIME)

    def paste(self) -> list[str]:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None or not mime.hasFormat(FRAGMENT_MIME):
            return []
        try:
            nodes, links = parse_fragment(json.loads(bytes(mime.data(FRAGMENT_MIME).data())))
        except (ValueError, ValidationError, AttributeError):
            return []
        self._pastes += 1
        return self._add(nodes, links, self._pastes * STEP, "Paste")

    def duplicate(self) -> list[str]:
        nodes, links = refactor.fragment(self.doc.topology, self.scene.selected_nodes())
        return self._add(nodes, links, STEP, "Duplicate")

    def _add(self, nodes: list[AnyNode], links: list[Link], offset: float, text: str) -> list[str]:
        if not nodes:
            return []
        offset = clear_offset(self.doc.topology, nodes, offset)
        copies, new_links = refactor.renamed_copy(self.doc.topology, nodes, links, (offset, offset))
        commands.push(self.doc, commands.PasteCommand(self.doc, copies, new_links, text))
        names = [n.name for n in copies]
        self.scene.select(names, [lk.key for lk in new_links])
        return names
