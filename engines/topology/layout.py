"""Auto-layout: clients, brokers and services in readable columns (no Qt).

Messages flow left to right: clients in the first column, brokers in the
second, services last. Each connected part of the topology gets its own band
of rows (bands keep the parts' current top-to-bottom order), and within a column nodes are ordered by the rows of what feeds them
(the barycenter heuristic), which keeps links from crossing in the common case.
"""

from __future__ import annotations

import math

import networkx as nx

from engines.topology.model import BrokerNode, ClientNode, Topology

COLUMN_GAP = 280.0
ROW_GAP = 140.0
BAND_GAP = 40.0
GRID = 10.0
MAX_ROWS = 6  # a column taller than this may wrap into sub-columns side by side
SUB_GAP = 200.0  # between the sub-columns of one column
ASPECT = 1.6  # the bands are stacked into side-by-side stacks until the picture is about this wide

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
    bands: list[tuple[dict[str, Position], float, float]] = []  # (positions from 0,0, width, height)
    for part in parts:
        by_column: dict[int, list[str]] = {}
        for name in sorted(part, key=order.__getitem__):
            by_column.setdefault(_column(topology.node(name), has_brokers), []).append(name)
        biggest = max(len(col) for col in by_column.values())
        per_column = max(MAX_ROWS, math.ceil(biggest / max(1, round(math.sqrt(ASPECT * ROW_GAP * biggest / SUB_GAP)))))
        rows = min(per_column, biggest)
        row_of: dict[str, float] = {}
        band: dict[str, Position] = {}
        x = 0.0
        for index in sorted(by_column):
            members = by_column[index]

            def placement(name: str, rows_so_far: dict[str, float] = row_of) -> tuple[float, float, int]:
                return (_barycentre(graph, name, rows_so_far), topology.node(name).position[1], order[name])

            members.sort(key=placement)
            subs = [members[i:i + per_column] for i in range(0, len(members), per_column)]
            for s_index, sub in enumerate(subs):
                first = (rows - len(sub)) / 2
                for k, name in enumerate(sub):
                    row_of[name] = first + k
                    band[name] = (x + s_index * SUB_GAP, (first + k) * ROW_GAP)
            x += (len(subs) - 1) * SUB_GAP + COLUMN_GAP
        bands.append((band, x - COLUMN_GAP + 200.0, rows * ROW_GAP))
    return _stack(bands)


def _stack(bands: list[tuple[dict[str, Position], float, float]]) -> dict[str, Position]:
    """Bands top to bottom, wrapped into stacks side by side when one stack would be tall and thin."""
    total = sum(h + BAND_GAP for _, _, h in bands)
    width = max((w for _, w, _ in bands), default=1.0)
    stacks = 1
    tall = MAX_ROWS * ROW_GAP * 1.5  # a stack shorter than this never wraps (small topologies)
    while stacks < len(bands) and total / stacks > max(tall, (width * stacks + COLUMN_GAP * (stacks - 1)) / ASPECT):
        stacks += 1
    per_stack = math.ceil(len(bands) / stacks)
    positions: dict[str, Position] = {}
    left, top = 0.0, 0.0
    for i, (band, _w, h) in enumerate(bands):
        if i and i % per_stack == 0:
            left, top = left + width + COLUMN_GAP, 0.0
        for name, (x, y) in band.items():
            positions[name] = (_snap(left + x), _snap(top + y))
        top += h + BAND_GAP
    return positions
