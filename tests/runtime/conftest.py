"""Fixtures for runtime tests: run a topology for real, close everything, prove nothing leaked."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from engines.nodes.instances import database_path
from engines.runtime import Supervisor
from engines.topology import topofile
from engines.topology.model import ClientNode, ServiceNode, Topology
from engines.topology.problems import Severity
from tests.conftest import ROOT


def example(number: str) -> Topology:
    """A fresh model of example `number` (e.g. '06'), safe to change."""
    path = next((ROOT / "topologies").glob(f"{number}-*.topo.yaml"))
    return topofile.load(path).topology


SLOW_MOMENT_MS = 5000  # the suite's 4 workers share 2 cores: a stall this long is the machine, no fault


def without_faults(number: str) -> Topology:
    """Example `number` with no scenario, no crash, no late joiner, about two seconds of traffic,
    and call timeouts and reply windows that a busy machine's slow moment does not exceed."""
    topo = example(number)
    topo.scenario = []
    topo.duration_s = None
    for node in topo.nodes:
        if isinstance(node, ServiceNode):
            node.crash = None
            node.join_after_ms = 0
        if isinstance(node, ClientNode):
            node.timeout_ms = max(node.timeout_ms, SLOW_MOMENT_MS)
            if node.style.value == "publish-async-responses":  # a reply after its window is a timeout
                node.collect_ms = max(node.collect_ms, SLOW_MOMENT_MS // 2)
            if node.rate > 0 and node.count:
                node.count = min(node.count, int(node.rate * 2))
    return topo


def node_children() -> list[psutil.Process]:
    """Node processes started by this test process that are still alive."""
    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "engines.nodes" in " ".join(child.cmdline()):
                out.append(child)
        except psutil.NoSuchProcess:
            continue
    return out


def assert_no_node_left(timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while node_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    left = node_children()
    assert not left, f"node processes outlived the run: {[p.pid for p in left]}"


class Lab:
    """Runs topologies under a Supervisor in tmp_path and keeps them for inspection until closed."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.sups: list[Supervisor] = []

    def run(self, topology: Topology, duration: float | None = None,
            on_tick: Callable[[Supervisor], None] | None = None, **options: Any) -> tuple[dict[str, Any], Supervisor]:
        errors = [p for p in topofile.check(topology) if p.severity is Severity.ERROR]
        assert not errors, errors
        sup = Supervisor(topology, self.tmp_path / f"run-{len(self.sups)}", **options)
        self.sups.append(sup)
        summary = sup.run(duration=duration, on_tick=on_tick)
        return summary, sup

    def close(self) -> None:
        for sup in self.sups:
            sup.close()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    runner = Lab(tmp_path)
    try:
        yield runner
    finally:
        runner.close()
        assert_no_node_left()


def db_rows(sup: Supervisor, service: str, sql: str) -> int:
    """One integer from a service's database (what a user would query)."""
    path = database_path(sup.table.nodes[service].node_dir, getattr(sup.topology.node(service), "store", None))
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(db.execute(sql).fetchone()[0])
    finally:
        db.close()


def events(sup: Supervisor, kind: str, node: str | None = None) -> list[dict[str, Any]]:
    return [e for e in sup.events.since(0) if e["event"] == kind and (node is None or e.get("node") == node)]
