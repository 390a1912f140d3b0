"""Auto-layout: clients, brokers and services in readable columns (no Qt).

Messages flow left to right: clients in the first column, brokers in the
second, services last. Each connected part of the topology gets its own band
of rows (bands keep the parts' current top-to-bottom order), and within a column nodes are ordered by the rows of what feeds them
(the barycenter heuristic), which keeps links from crossing in the common case.
"""

from __future__ import annotations

import networkx as nx

from engines.topology.model import BrokerNode, ClientNode, Topology

COLUMN_GAP = 280.0
ROW_GAP = 140.0
BAND_GAP = 40.0
GRID = 10.0

Position = tuple[float, float]


def _snap(value: float) -> float:
    return float(round(value / GRID) * GRID)


def _column(node: object, has_brokers: bool) -> int:
    if isinstance(node, ClientNode):
        return 0
    if isinstance(node, BrokerNode):
        return 1
    return 2 if has_brokers else 1


def _barycentre(graph: nx.DiGraph[str], name: str, row_of: dict[str, float]) -> float:
    """The mean row of the nodes that feed `name` (infinity when none is placed yet)."""
    fed_by = [row_of[p] for p in graph.predecessors(name) if p in row_of]
    return sum(fed_by) / len(fed_by) if fed_by else float("inf")


def columns(topology: Topology) -> dict[str, Position]:
    """New positions for every node: columns by kind, bands by connected part."""
    names = [n.name for n in topology.nodes]
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(names)
    graph.add_edges_from((lk.source, lk.target) for lk in topology.links
                         if lk.source in graph and lk.target in graph and lk.source != lk.target)
    order = {name: i for i, name in enumerate(names)}
    has_brokers = bool(topology.brokers())
    # Separate parts keep the vertical order the user gave them.
    parts = sorted(nx.weakly_connected_components(graph),
                   key=lambda part: (sum(topology.node(n).position[1] for n in part) / len(part),
                                    min(order[n] for n in part)))
    positions: dict[str, Position] = {}
    top = 0.0
    for part in parts:
        by_column: dict[int, list[str]] = {}
        for name in sorted(part, key=order.__getitem__):
            by_column.setdefault(_column(topology.node(name), has_brokers), []).append(name)
        rows = max(len(col) for col in by_column.values())
        row_of: dict[str, float] = {}
        for index in sorted(by_column):
            members = by_column[index]


            def placement(name: str, rows_so_far: dict[str, float] = row_of) -> tuple[float, float, int]:
                return (_barycentre(graph, name, rows_so_far), topology.node(name).position[1], order[name])

            members.sort(key=placement)
            first = (rows - len(members)) / 2
            for k, name in enumerate(members):
                row_of[name] = first + k
                positions[name] = (_snap(index * COLUMN_GAP), _snap(top + (first + k) * ROW_GAP))
        top += rows * ROW_GAP + BAND_GAP
    return positions
