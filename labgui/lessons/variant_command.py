"""A lesson step's variant applied to the open topology as one undoable edit.

The edit is the difference between the document and the variant's topology:
the settings of each node and link that differ, the scenario, the duration and
the checks (as expectations). Positions stay where the learner put them. When
the two have different nodes or links there is no such edit: the caller opens
the variant's file instead.
"""

from __future__ import annotations

import copy
from typing import Any

from engines.topology.model import Topology
from labgui.document import commands
from labgui.document.document import TopologyDocument


def _same_shape(a: Topology, b: Topology) -> bool:
    return ([(n.name, n.kind) for n in a.nodes] == [(n.name, n.kind) for n in b.nodes]
            and [lk.key for lk in a.links] == [lk.key for lk in b.links])


def _plain(model: Any) -> Any:
    return model.model_dump(mode="json", exclude={"position"})


def variant_command(doc: TopologyDocument, target: Topology, text: str) -> commands.EditCommand | None:
    """The edit that makes the document the variant (None: nothing to change); ValueError if the
    document's nodes or links are not the variant's."""
    current = doc.topology
    if not _same_shape(current, target):
        raise ValueError("the topology on the canvas has other nodes or links than this step's")
    ops: list[Any] = []
    for node in target.nodes:
        mine = current.node(node.name)
        if _plain(mine) != _plain(node):
            ops.append(commands._ReplaceNode(node.name, node.model_copy(update={"position": mine.position})))
    for link in target.links:
        ours = next(lk for lk in current.links if lk.key == link.key)
        if ours.model_dump(mode="json") != link.model_dump(mode="json"):
            ops.append(commands._ReplaceLink(link.key, link))
    for field in ("scenario", "expectations", "duration_s"):
        if getattr(current, field) != getattr(target, field):
            ops.append(commands._SetField(field, copy.deepcopy(getattr(target, field))))
    return commands.EditCommand(doc, text, ops) if ops else None
