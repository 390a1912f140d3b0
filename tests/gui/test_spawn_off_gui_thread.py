"""Pressing Run never makes the window wait on process creation (issue 16, defect 12).

Every process of a run (nodes, the live ledger's helper, the report) is created
on a worker thread: the GUI thread never calls subprocess.Popen and never writes
the run's topology or the nodes' spec files. How long the window froze while 50 nodes
start is measured by bench/bench_gui_responsiveness.py (a timing, so not here).
"""

from __future__ import annotations

import subprocess
import threading
from typing import Any

import pytest

from engines.runtime import specs
from engines.topology.model import ClientNode, Link, ServiceNode, Topology
from tests.gui.runs import assert_run_left_nothing, wait_phase

pytestmark = pytest.mark.gui


def _pairs(n: int) -> Topology:
    nodes: list[ClientNode | ServiceNode] = [ClientNode(name=f"c{i}", rate=200, count=200) for i in range(n)]
    nodes += [ServiceNode(name=f"s{i}", position=(300, 100 * i)) for i in range(n)]
    return Topology(name="spawn-off-gui", nodes=nodes,
                    links=[Link(source=f"c{i}", target=f"s{i}") for i in range(n)])


@pytest.mark.timeout(120)
def test_run_creates_every_process_off_the_gui_thread(window, qtbot, tmp_path, monkeypatch):
    gui = threading.main_thread()
    assert threading.current_thread() is gui
    popen_threads: list[str] = []
    spec_threads: list[str] = []
    original_init = subprocess.Popen.__init__
    original_spec = specs.write_spec

    def recording_init(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> None:
        popen_threads.append(threading.current_thread().name)
        original_init(self, *args, **kwargs)

    def recording_spec(*args: Any, **kwargs: Any) -> None:
        spec_threads.append(threading.current_thread().name)
        original_spec(*args, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "__init__", recording_init)
    monkeypatch.setattr("engines.runtime.supervisor.write_spec", recording_spec)
    window.doc.replace(_pairs(4))
    rm = window.run_mode
    rm.run_root = tmp_path / "runs"
    rm.link_faults_action.setChecked(False)
    assert rm.run()
    wait_phase(qtbot, window, ("ended", "failed"), 90)
    assert rm.phase == "ended", rm.session.error
    summary = rm.session.summary
    assert summary is not None
    for i in range(4):
        assert summary["nodes"][f"c{i}"]["sent"] == summary["nodes"][f"c{i}"]["processed"] == 200
    assert len(spec_threads) == 8 and gui.name not in spec_threads
    node_spawns = [t for t in popen_threads if t.startswith("spawner")]
    assert len(node_spawns) >= 8, popen_threads  # every node, by the supervisor's spawner thread
    assert gui.name not in popen_threads, popen_threads  # nor the ledger's helper or the report
    assert (rm.session.sup.run_dir / "topology.topo.yaml").exists()
    assert_run_left_nothing(window)
