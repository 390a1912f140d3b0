"""Starting many nodes must not starve the window (issue 16, defect 12).

Fifty Python processes importing their libraries at once took the cores from
the window for 150-480 ms at a time, because the run's processes were only
given their lower priority once the whole start was over. Now each one is
lowered within a few tens of milliseconds of existing, while it still starts.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psutil
import pytest

from engines.topology.model import ClientNode, Link, ServiceNode, Topology
from labgui.run.session import RUNNING, STARTING, RunSession


@pytest.mark.timeout(90)
def test_nodes_are_lowered_while_they_are_still_starting(tmp_path):
    pairs = 8
    nodes = [ClientNode(name=f"c{i}", rate=50, count=100) for i in range(pairs)]
    nodes += [ServiceNode(name=f"s{i}") for i in range(pairs)]
    topo = Topology(name="many", nodes=nodes,
                    links=[Link(source=f"c{i}", target=f"s{i}") for i in range(pairs)])
    session = RunSession(topo, tmp_path / "run")
    seen_low_while_starting: set[str] = set()
    session.start()
    try:
        deadline = time.monotonic() + 60
        while session.phase in (STARTING, RUNNING) and time.monotonic() < deadline:
            for name, proc in list(session.sup.table.nodes.items()):
                if proc.state == "starting" and proc.pid is not None:
                    try:
                        if psutil.Process(proc.pid).nice() == session._nice:
                            seen_low_while_starting.add(name)
                    except psutil.Error:
                        pass
            if session.phase == RUNNING and len(seen_low_while_starting) >= pairs:
                break
            time.sleep(0.01)
        services = {n for n in seen_low_while_starting if n.startswith("s")}
        assert services, "no service ran at the lower priority while it was starting"
    finally:
        session.abort()
        assert session.join(30)
        session.wait_done(30)


@pytest.mark.timeout(90)
def test_each_node_is_lowered_by_the_spawner_before_it_runs_on(tmp_path, monkeypatch):
    """The spawner thread lowers each process as soon as it exists (ProcessTable.on_spawn), not a
    polling thread tens of milliseconds later: by the time spawn() returns, the node is low."""
    from engines.runtime.proctable import NodeProcess, ProcessTable

    lowered: dict[str, bool] = {}
    spawn = ProcessTable.spawn

    def checking_spawn(self: ProcessTable, node: NodeProcess) -> None:
        spawn(self, node)
        try:
            lowered[node.name] = psutil.Process(node.pid).nice() == session._nice
        except psutil.Error:
            lowered[node.name] = False

    monkeypatch.setattr(ProcessTable, "spawn", checking_spawn)
    pairs = 4
    nodes = [ClientNode(name=f"c{i}", rate=50, count=50) for i in range(pairs)]
    nodes += [ServiceNode(name=f"s{i}") for i in range(pairs)]
    topo = Topology(name="lowered", nodes=nodes,
                    links=[Link(source=f"c{i}", target=f"s{i}") for i in range(pairs)])
    session = RunSession(topo, tmp_path / "run")
    assert session._nice > psutil.Process().nice()
    session.start()
    try:
        deadline = time.monotonic() + 60
        while session.phase in (STARTING, RUNNING, "finishing") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert session.phase == "ended", session.error
    finally:
        session.cancel_report()
        session.abort()
        assert session.join(30)
        session.wait_done(30)
    assert lowered == {n.name: True for n in nodes}


def test_a_window_closed_before_the_report_starts_leaves_no_report_process(tmp_path, monkeypatch):
    """The window's close (cancel_report) can come between the run's end and the report's spawn:
    the report is then not started at all, rather than started after the window is gone."""
    topo = Topology(name="closing", nodes=[ClientNode(name="c", count=1), ServiceNode(name="s")],
                    links=[Link(source="c", target="s")])
    session = RunSession(topo, tmp_path / "run")
    spawned: list[object] = []
    real_popen = subprocess.Popen
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: spawned.append(a) or real_popen(*a, **k))
    try:
        session.cancel_report()
        session._build_report()
        assert spawned == [] and session.report is None
        assert "window closed" in (session.report_error or "")
    finally:
        session.abort()


@pytest.mark.timeout(60)
def test_a_ready_brokers_tree_is_walked_once_a_second_not_every_tick(tmp_path, monkeypatch):
    """Walking a broker's process tree reads every /proc/*/stat (milliseconds with a few hundred
    processes); the run loop lowers priorities ten times a second, and a broker's processes after
    each action are already in the table while the helpers it forks later inherit its nice."""
    from labgui.run import session as session_module

    helper = subprocess.Popen(["sleep", "30"])  # stands for a broker's process (it gets reniced)
    walks: list[float] = []

    class Broker:
        def pids_now(self) -> list[int]:
            walks.append(time.monotonic())
            return [helper.pid]

        pids = pids_now

    topo = Topology(name="walks", nodes=[ClientNode(name="c", rate=10, count=10), ServiceNode(name="s")],
                    links=[Link(source="c", target="s")])
    session = RunSession(topo, tmp_path / "run")
    try:
        session.sup.control.brokers["rabbit"] = Broker()
        state = {"rabbit": "starting"}
        monkeypatch.setattr(session.sup, "states", lambda: dict(state))
        now = [100.0]
        monkeypatch.setattr(session_module.time, "monotonic", lambda: now[0])
        for _ in range(5):
            session._lower_priority()
        assert walks == []  # a booting broker keeps its priority
        state["rabbit"] = "ready"
        for _ in range(10):  # one second of run-loop ticks
            session._lower_priority()
            now[0] += 0.09
        assert len(walks) == 1 and psutil.Process(helper.pid).nice() == session._nice
        now[0] += 0.2
        session._lower_priority()
        assert len(walks) == 2  # a second later it is walked again (a new life's processes)
    finally:
        helper.kill()
        helper.wait(timeout=10)



_OWN_SESSION_CHECK = """
import subprocess, sys
from pathlib import Path
from engines.topology.model import ClientNode, Link, ServiceNode, Topology
from labgui.run.session import RunSession

def group_nice():
    return open("/proc/self/autogroup", encoding="ascii").read().split()[-1]

helper = subprocess.Popen(["sleep", "30"])  # in this session, as a reused pid could be
topo = Topology(name="own-session", nodes=[ClientNode(name="c", rate=10, count=10), ServiceNode(name="s")],
                links=[Link(source="c", target="s")])
session = RunSession(topo, Path(sys.argv[1]) / "run")
before = group_nice()
session._lower(helper.pid)
print(before, group_nice(), open(f"/proc/{helper.pid}/stat").read().split()[18] == str(session._nice))
helper.kill()
"""


@pytest.mark.timeout(60)
def test_lowering_a_process_of_the_windows_own_session_leaves_the_windows_group_alone(tmp_path):
    """Nodes run in sessions of their own, and their session's scheduling group is lowered too.
    A process of the window's own session (a reused pid, or a test's helper) gets its own nice
    only: lowering its group lowered the window, its terminal and every later program of that
    session to nice 19 (seen as a GUI bench ten times slower after a test suite). The window
    here is a fresh session of its own, whose group starts at nice 0."""
    import sys

    from engines.runtime.proctable import PROJECT_ROOT

    if not Path("/proc/self/autogroup").exists():
        pytest.skip("this kernel groups no sessions (no autogroup)")
    done = subprocess.run([sys.executable, "-c", _OWN_SESSION_CHECK, str(tmp_path)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=50, start_new_session=True, check=False)
    assert done.returncode == 0, done.stderr
    before, after, helper_lowered = done.stdout.split()
    assert (before, after, helper_lowered) == ("0", "0", "True")
