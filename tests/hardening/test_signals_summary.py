"""`labgui run` still gives its summary after a second Ctrl-C or a SIGHUP (a closed terminal).

The first Ctrl-C (or SIGTERM, or SIGHUP) stops the run in order; a second
Ctrl-C kills every node at once and the summary is built from what they
recorded. Either way summary.json is written whole and the table printed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.hardening.leaks import leftovers

TOPOLOGY = """
version: 1
name: signals
nodes:
  - {name: events, kind: client, style: notification, transport: zmq, rate: 200, count: 100000}
  - {name: shop, kind: client, style: request-response, transport: http, rate: 100, count: 100000}
  - {name: worker, kind: service, processing_ms: 2}
  - {name: inventory, kind: service}
links:
  - {from: events, to: worker}
  - {from: shop, to: inventory}
"""


def _client_ready(events: Path) -> bool:
    """The `events` client is sending (on a loaded machine it may take seconds after the start)."""
    if not events.exists():
        return False
    for line in events.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "ready" and event.get("node") == "events":
            return True
    return False


def _run_and_signal(tmp_path: Path, signals: list[signal.Signals]) -> tuple[int, str, str, Path]:
    topo = tmp_path / "signals.topo.yaml"
    topo.write_text(TOPOLOGY, encoding="utf-8")
    run_dir = tmp_path / "run"
    runner = subprocess.Popen([sys.executable, "-m", "labgui", "run", str(topo), "--out", str(run_dir)],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if _client_ready(run_dir / "events.jsonl"):
                break
            assert runner.poll() is None, runner.communicate()
            time.sleep(0.05)
        time.sleep(1.0)
        for sig in signals:
            runner.send_signal(sig)
            time.sleep(0.2)
        out, err = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.communicate()
    return runner.returncode, out, err, run_dir


@pytest.mark.timeout(120)
@pytest.mark.parametrize("signals", [[signal.SIGINT, signal.SIGINT], [signal.SIGHUP]],
                         ids=["second-ctrl-c", "sighup"])
def test_summary_after_a_second_ctrl_c_or_a_sighup(tmp_path: Path, signals: list[signal.Signals]) -> None:
    code, out, err, run_dir = _run_and_signal(tmp_path, signals)
    assert code == 130, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert "run 'signals'" in out and "run directory:" in out, out
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["nodes"]["events"]["sent"] > 0
    deadline = time.monotonic() + 5
    while leftovers(run_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not leftovers(run_dir)


@pytest.mark.gui
@pytest.mark.timeout(150)
def test_gui_sigterm_stops_the_run_in_order_and_writes_its_summary(tmp_path: Path) -> None:
    topo = tmp_path / "signals.topo.yaml"
    topo.write_text(TOPOLOGY, encoding="utf-8")
    root = tmp_path / "runs"
    gui = subprocess.Popen([sys.executable, str(Path(__file__).parent / "drive_gui.py"), str(topo), str(root),
                            "600"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen",
                                "LAB_STATE_DIR": str(tmp_path / "state")})
    run_dir = None
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and run_dir is None:
            assert gui.poll() is None, gui.communicate()[1][-3000:]
            for events in root.glob("*/events.jsonl"):
                if _client_ready(events):
                    run_dir = events.parent
            time.sleep(0.05)
        assert run_dir is not None, "the GUI's run never started"
        time.sleep(1.0)
        gui.send_signal(signal.SIGTERM)
        _, err = gui.communicate(timeout=90)
    finally:
        if gui.poll() is None:
            gui.kill()
            gui.communicate()
    assert gui.returncode == 0, err[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["nodes"]["events"]["sent"] > 0
    assert summary["node_states"]["events"]["state"] == "exited"  # stopped in order, not killed
    deadline = time.monotonic() + 5
    while leftovers(run_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not leftovers(run_dir)
