"""Annotations: what a teacher writes on the canvas (notes, titled boxes, groups of nodes).

They describe nothing the run uses; they are saved in the topology file under
`annotations:` so a lesson can point at "the single point of failure". A note
is text at a position, a box a titled rectangle, a group a titled frame drawn
around named nodes (it follows them when they move). Files without the field
load unchanged and are written without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from pydantic import Field

from engines.topology.basics import Name, Position, _Strict

NOTE_SIZE = (220.0, 80.0)
BOX_SIZE = (260.0, 160.0)


class AnnotationKind(str, Enum):
    NOTE = "note"
    BOX = "box"
    GROUP = "group"


class Annotation(_Strict):
    """One note, box or group on the canvas."""

    kind: AnnotationKind = AnnotationKind.NOTE
    text: str = Field(default="", max_length=2000,
                      description="A note's text; a box's or group's title.")
    position: Position = Field(default=(0.0, 0.0),
                               description="Top-left corner on the canvas (notes and boxes).")
    size: tuple[float, float] | None = Field(
        default=None, description="Width and height (notes and boxes); unset = the kind's default.")
    nodes: list[Name] = Field(
        default_factory=list, description="A group's members: the frame is drawn around them.")

    def extent(self) -> tuple[float, float]:
        """Width and height of a note or box (its own size, or the kind's default)."""
        if self.size is not None:
            return self.size
        return BOX_SIZE if self.kind is AnnotationKind.BOX else NOTE_SIZE


def problems(annotations: list[Annotation], names: Iterable[str]) -> list[tuple[int, str, str]]:
    """(index, field, message) for each annotation that does not make sense with these nodes."""
    known = set(names)
    found: list[tuple[int, str, str]] = []
    for i, ann in enumerate(annotations):
        if ann.size is not None and (ann.size[0] <= 0 or ann.size[1] <= 0):
            found.append((i, "size", "width and height must be greater than 0"))
        if ann.kind is AnnotationKind.GROUP:
            if not ann.nodes:
                found.append((i, "nodes", "a group frames nodes: name at least one"))
            for name in ann.nodes:
                if name not in known:
                    found.append((i, "nodes", f"group '{ann.text}' names node '{name}', which does not exist"))
        elif ann.nodes:
            found.append((i, "nodes", f"only a group lists nodes; this is a {ann.kind.value}"))
    return found


def renamed(annotations: list[Annotation], old: str, new: str) -> list[Annotation]:
    """The annotations with node `old` called `new` in every group."""
    return [a.model_copy(update={"nodes": [new if n == old else n for n in a.nodes]})
            if old in a.nodes else a for a in annotations]


def without_nodes(annotations: list[Annotation], doomed: set[str]) -> list[Annotation]:
    """The annotations after deleting nodes: groups lose them, and a group left empty goes."""
    out = []
    for a in annotations:
        if a.kind is AnnotationKind.GROUP and doomed & set(a.nodes):
            kept = [n for n in a.nodes if n not in doomed]
            if not kept:
                continue
            a = a.model_copy(update={"nodes": kept})
        out.append(a)
    return out
