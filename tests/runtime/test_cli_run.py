"""`labgui run` as a user runs it: a subprocess, its output, its exit code, and its signals.

The runner's nodes must never outlive it, even when the runner is SIGKILLed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import ROOT

SMALL = """
version: 1
name: small-http
nodes:
  - {name: shop, kind: client, style: request-response, transport: http, rate: 200, count: 60}
  - {name: inventory, kind: service}
links:
  - {from: shop, to: inventory}
expectations:
  - lost == 0
  - processed == sent
"""

LONG = """
version: 1
name: long-push
nodes:
  - {name: events, kind: client, style: notification, transport: zmq, rate: 500, count: 100000}
  - {name: worker, kind: service}
links:
  - {from: events, to: worker}
"""


def _labgui(*args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "labgui", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_for_nodes(out: Path, n: int, runner: subprocess.Popen, timeout_s: float = 30) -> list[int]:
    """Wait until the run's pid table shows n nodes, all alive and past starting."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert runner.poll() is None, runner.communicate()
        try:
            table = json.loads((out / "pids.json").read_text())
        except (OSError, ValueError):
            table = None
        if table and len(table["nodes"]) == n:
            nodes = table["nodes"].values()
            if all(v["pid"] and v["state"] in ("ready", "done") and _alive(v["pid"]) for v in nodes):
                return [v["pid"] for v in nodes]
        time.sleep(0.1)
    raise AssertionError("the nodes did not come up")


@pytest.mark.timeout(60)
def test_run_json_prints_the_summary_and_exits_zero(tmp_path):
    path = tmp_path / "small.topo.yaml"
    path.write_text(SMALL)
    runner = _labgui("run", str(path), "--json", "--out", str(tmp_path / "out"))
    out, err = runner.communicate(timeout=50)
    assert runner.returncode == 0, err
    summary = json.loads(out)
    assert summary["total"]["sent"] == summary["total"]["processed"] == 60
    assert all(v["passed"] for v in summary["expectations"])
    assert "nodes up" in err  # the progress line
    for name in ("topology.topo.yaml", "events.jsonl", "metrics.csv", "summary.json", "pids.json"):
        assert (tmp_path / "out" / name).exists(), name
    assert (tmp_path / "out" / "nodes" / "inventory" / "service.db").exists()
    assert (tmp_path / "out" / "nodes" / "shop" / "node.log").exists()


@pytest.mark.timeout(60)
def test_run_prints_a_table(tmp_path):
    path = tmp_path / "small.topo.yaml"
    path.write_text(SMALL)
    runner = _labgui("run", str(path), "--out", str(tmp_path / "out"), "--duration", "20")
    out, err = runner.communicate(timeout=50)
    assert runner.returncode == 0, err
    assert "run 'small-http'" in out and "PASS  lost == 0" in out
    assert "shop->inventory" in out


@pytest.mark.timeout(30)
@pytest.mark.parametrize("text, message", [
    ("version: 1\nname: x\nnodes:\n  - {name: a, kind: client, rate: -1}\n", "field 'rate'"),
    ("version: 1\nname: x\nnodes: [\n", "error"),
])
def test_bad_file_gets_the_validate_errors_not_a_traceback(tmp_path, text, message):
    path = tmp_path / "bad.topo.yaml"
    path.write_text(text)
    runner = _labgui("run", str(path))
    out, err = runner.communicate(timeout=20)
    assert runner.returncode == 1
    assert message in err and str(path) in err
    assert "Traceback" not in err + out


@pytest.mark.timeout(30)
def test_missing_file_and_busy_out_dir_are_clear_errors(tmp_path):
    runner = _labgui("run", str(tmp_path / "nope.topo.yaml"))
    _, err = runner.communicate(timeout=20)
    assert runner.returncode == 1 and "no such file" in err and "Traceback" not in err
    path = tmp_path / "small.topo.yaml"
    path.write_text(SMALL)
    runner = _labgui("run", str(path), "--out", str(tmp_path))  # not empty
    _, err = runner.communicate(timeout=20)
    assert runner.returncode == 1 and "not empty" in err and "Traceback" not in err


@pytest.mark.timeout(30)
@pytest.mark.skipif(importlib.util.find_spec("engines.brokers") is not None,
                    reason="the broker engine is installed here")
def test_topology_with_brokers_is_refused_clearly_without_the_broker_engine(tmp_path):
    runner = _labgui("run", str(ROOT / "topologies" / "03-request-response-rabbitmq.topo.yaml"),
                     "--out", str(tmp_path / "out"))
    _, err = runner.communicate(timeout=20)
    assert runner.returncode == 1
    assert "engines.brokers" in err and "brokerless topologies" in err and "Traceback" not in err


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_stops_cleanly_and_still_prints_the_summary(tmp_path, sig):
    path = tmp_path / "long.topo.yaml"
    path.write_text(LONG)
    out_dir = tmp_path / "out"
    runner = _labgui("run", str(path), "--out", str(out_dir))
    try:
        pids = _wait_for_nodes(out_dir, 2, runner)
        time.sleep(0.5)
        runner.send_signal(sig)
        out, err = runner.communicate(timeout=40)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    assert runner.returncode == 130, err
    assert "run 'long-push'" in out and "stopping the run" in err
    summary = json.loads((out_dir / "summary.json").read_text())
    assert 0 < summary["total"]["sent"] < 100000
    assert summary["total"]["processed"] == summary["total"]["sent"], "stopped in order, nothing lost"
    assert not [p for p in pids if _alive(p)]


@pytest.mark.timeout(60)
def test_sigkilled_runner_leaves_no_node_alive(tmp_path):
    out_dir = tmp_path / "out"
    runner = _labgui("run", str(ROOT / "topologies" / "06-notification-zmq-push-pull.topo.yaml"),
                     "--out", str(out_dir))
    try:
        pids = _wait_for_nodes(out_dir, 3, runner)
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
    finally:
        if runner.poll() is None:
            runner.kill()
        runner.communicate()
    time.sleep(2.0)
    table = json.loads((out_dir / "pids.json").read_text())
    every_pid = [pid for node in table["nodes"].values() for pid in node["pids"]]
    assert set(pids) <= set(every_pid)
    assert not [p for p in every_pid if _alive(p)], "a node outlived its SIGKILLed runner"
