"""SIGKILL the runner while its managed broker is paused: nothing of the broker survives.

Pausing stops beam's whole process tree (erl_child_setup, inet_gethost, the
`sh -s rabbit_disk_monitor` helper); beam then dies of its parent-death
signal and its stopped helpers are orphans that nothing names. The reaper
finds them by the run's mark in their environment and wakes them (SIGCONT)
before it kills them. One trial here; `bench/kill_trials.py` repeats it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from engines.hygiene import portreg, reaper
from tests.brokers.conftest import RABBIT_MISSING
from tests.conftest import ROOT
from tests.hardening.leaks import leftovers, run_processes
from tests.hardening.test_kill_hygiene import _events, _run_dir

PAUSED = """
version: 1
name: paused-broker
duration_s: 60
nodes:
  - {name: orders, kind: client, style: notification, transport: amqp, rate: 100, count: 100000}
  - {name: rabbit, kind: broker}
  - {name: billing, kind: service}
links:
  - {from: orders, to: rabbit, channel: orders}
  - {from: rabbit, to: billing}
scenario:
  - {action: pause, target: rabbit, at_s: 0.5}
"""


def kill_runner_while_paused(root: Path, env: dict[str, str]) -> tuple[Path, list[str]]:
    """Start `labgui run`, SIGKILL it once the broker is paused; what is left after 5 s."""
    topo = root / "paused.topo.yaml"
    topo.write_text(PAUSED, encoding="utf-8")
    launcher = subprocess.Popen([sys.executable, "-m", "labgui", "run", str(topo), "--out", str(root / "run")],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=open(root / "launcher.err", "wb"))  # noqa: SIM115
    run_dir = None
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert launcher.poll() is None, (root / "launcher.err").read_text()[-3000:]
            run_dir = _run_dir(root)
            if run_dir is not None and any(e["event"] == "paused" and e.get("node") == "rabbit"
                                           for e in _events(run_dir)):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the broker was never paused")
        time.sleep(0.5)  # the whole tree is stopped
        launcher.send_signal(signal.SIGKILL)
        launcher.wait(timeout=10)
        killed_at = time.monotonic()
        left = leftovers(run_dir)
        while (left or portreg.entry_path(run_dir).exists()) and time.monotonic() - killed_at < 5.0:
            time.sleep(0.1)
            left = leftovers(run_dir)
        return run_dir, left
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait(timeout=10)
        if run_dir is not None:
            reaper.sweep(run_dir, budget_s=10, quiet_s=0.5)  # never leak into the next test
            _kill_by_environment(run_dir)


def _kill_by_environment(run_dir: Path) -> None:
    for proc in run_processes(run_dir):
        try:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
        except psutil.NoSuchProcess:
            pass


@pytest.mark.rabbitmq
@pytest.mark.skipif(RABBIT_MISSING is not None, reason=str(RABBIT_MISSING))
@pytest.mark.timeout(150)
def test_runner_killed_while_broker_paused_leaves_nothing(tmp_path: Path) -> None:
    ports = tmp_path / "ports"
    before = os.environ.get(portreg.ENV_DIR)
    os.environ[portreg.ENV_DIR] = str(ports)
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT), portreg.ENV_DIR: str(ports),
               "LAB_STATE_DIR": str(tmp_path / "state")}
        run_dir, left = kill_runner_while_paused(tmp_path, env)
        assert not left, "left behind 5 s after the SIGKILL:\n" + "\n".join(left)
        assert not portreg.entry_path(run_dir).exists(), "the run's ports were never released"
    finally:
        if before is None:
            os.environ.pop(portreg.ENV_DIR, None)
        else:
            os.environ[portreg.ENV_DIR] = before
