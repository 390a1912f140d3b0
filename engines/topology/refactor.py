"""Edits that must keep a topology's references whole: renaming a node, copying a fragment.

A node's name appears in links, scenario targets (node names and 'from->to'
link keys) and expectation scopes ('payments.lost'). The editor renames all of
them at once and pastes copies under fresh names with their links between
them. No Qt here, so the rules can be tested on plain data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from engines.topology.model import BrokerNode, ClientNode, Link, ServiceNode, Step, Topology

AnyNode = ClientNode | ServiceNode | BrokerNode


def _rename_key(key: str, old: str, new: str) -> str:
    if "->" not in key:
        return new if key == old else key
    source, target = key.split("->", 1)
    return f"{new if source == old else source}->{new if target == old else target}"


def rename_references(topology: Topology, old: str, new: str) -> tuple[list[Link], list[Step], list[str]]:
    """Links, scenario and expectations of `topology` with node `old` called `new`."""
    links = [
        link.model_copy(update={"source": new if link.source == old else link.source,
                                "target": new if link.target == old else link.target})
        for link in topology.links
    ]
    scenario = [
        step.model_copy(update={"target": _rename_key(step.target, old, new)})
        for step in topology.scenario
    ]
    scope = re.compile(rf"(?<![A-Za-z0-9_-]){re.escape(old)}(?=\.|->)")
    expectations = [scope.sub(new, text) for text in topology.expectations]
    return links, scenario, expectations


def fragment(topology: Topology, names: Iterable[str]) -> tuple[list[AnyNode], list[Link]]:
    """The named nodes and every link between two of them, in topology order."""
    wanted = set(names)
    nodes = [n for n in topology.nodes if n.name in wanted]
    links = [lk for lk in topology.links if lk.source in wanted and lk.target in wanted]
    return nodes, links


def renamed_copy(topology: Topology, nodes: list[AnyNode], links: list[Link],
                 offset: tuple[float, float]) -> tuple[list[AnyNode], list[Link]]:
    """Copies of a fragment ready to add to `topology`: fresh names, moved by `offset`.

    Links keep only ends inside the fragment; an explicit link name that is
    already taken is dropped so the link falls back to 'from->to'.
    """
    taken = {n.name for n in topology.nodes}
    mapping: dict[str, str] = {}
    copies: list[AnyNode] = []
    for node in nodes:
        name = _unique(node.name, taken)
        taken.add(name)
        mapping[node.name] = name
        x, y = node.position
        # A fixed port cannot be shared: the copy listens on a free one.
        copies.append(node.model_copy(update={"name": name, "port": None,
                                              "position": (x + offset[0], y + offset[1])}))
    keys = {lk.key for lk in topology.links}
    new_links: list[Link] = []
    for link in links:
        if link.source not in mapping or link.target not in mapping:
            continue
        copy = link.model_copy(update={"source": mapping[link.source], "target": mapping[link.target]})
        if copy.name is not None and copy.name in keys:
            copy = copy.model_copy(update={"name": None})
        if copy.key in keys:
            continue
        keys.add(copy.key)
        new_links.append(copy)
    return copies, new_links


def _unique(stem: str, taken: set[str]) -> str:
    base = (re.sub(r"-\d+$", "", stem) or stem)[:56]
    if stem not in taken:
        return stem
    i = 2
    while f"{base}-{i}" in taken:
        i += 1
    return f"{base}-{i}"


def rename_link_references(topology: Topology, old_key: str, new_key: str) -> tuple[list[Step], list[str]]:
    """Scenario and expectations of `topology` with link `old_key` called `new_key`."""
    scenario = [
        step.model_copy(update={"target": new_key}) if step.target == old_key else step
        for step in topology.scenario
    ]
    scope = re.compile(rf"(?<![A-Za-z0-9_>-]){re.escape(old_key)}(?=\.)")
    expectations = [scope.sub(new_key, text) for text in topology.expectations]
    return scenario, expectations
