"""SIGKILL the runner, a bare supervisor and the GUI at several moments of a run: nothing is left.

For each way of running (the `labgui run` CLI, a script that builds a
Supervisor, the editor offscreen) and for a brokerless (with a mail service
and its IMAP server), one test loops over three moments: during the start (the
first node spawned), mid-run, and during the ordered stop. A brokered run
costs a RabbitMQ boot (about 7 CPU-seconds) each time, so the brokered test
kills each way of running at one moment, and each moment once: the GUI while
the broker boots, the bare supervisor mid-run, the CLI runner during the stop.
Five seconds after the SIGKILL no node, beam.smp or epmd of that run may be
alive, no port of the run may be listened on, and the run's entry in the
port registry must be gone (its ports are free again only then).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from engines.hygiene import portreg, reaper
from tests.brokers.conftest import RABBIT_MISSING
from tests.conftest import ROOT
from tests.hardening.leaks import leftovers

HERE = Path(__file__).resolve().parent
RUN_SECONDS = 2.5  # clients run this long before the ordered stop begins (mid-run is at 1 s)

BROKERLESS = """
version: 1
name: hygiene-brokerless
nodes:
  - {name: shop, kind: client, style: request-response, transport: http, rate: 100, count: 100000}
  - {name: events, kind: client, style: notification, transport: zmq, rate: 200, count: 100000}
  - {name: asker, kind: client, style: async-request-response, transport: zmq, rate: 100, count: 100000}
  - {name: mailer, kind: client, style: notification, transport: smtp, rate: 50, count: 100000}
  - {name: inventory, kind: service}
  - {name: worker, kind: service}
  - {name: answerer, kind: service}
  - {name: mail, kind: service}
  - {name: reader, kind: service}
links:
  - {from: shop, to: inventory}
  - {from: events, to: worker}
  - {from: asker, to: answerer}
  - {from: mailer, to: mail}
  - {from: mail, to: reader}
"""

BROKERED = """
version: 1
name: hygiene-brokered
nodes:
  - {name: shop, kind: client, style: request-response, transport: http, rate: 100, count: 100000}
  - {name: events, kind: client, style: notification, transport: zmq, rate: 200, count: 100000}
  - {name: orders, kind: client, style: notification, transport: amqp, rate: 100, count: 100000}
  - {name: inventory, kind: service}
  - {name: worker, kind: service}
  - {name: rabbit, kind: broker}
  - {name: billing, kind: service}
links:
  - {from: shop, to: inventory}
  - {from: events, to: worker}
  - {from: orders, to: rabbit, channel: orders}
  - {from: rabbit, to: billing}
"""


def _events(run_dir: Path) -> list[dict]:
    try:
        lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # the last line may be half written
    return out


def _node_pids(run_dir: Path) -> list[int]:
    try:
        table = json.loads((run_dir / "pids.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [pid for node in table.get("nodes", {}).values() for pid in node.get("pids", [])]


def _beam_booting(run_dir: Path) -> bool:
    for path in run_dir.glob("brokers/*/state.json"):
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("beam_pid"):
                return not any(e["event"] == "ready" and e.get("node") == "rabbit" for e in _events(run_dir))
        except (OSError, ValueError):
            continue
    return False


def _started(run_dir: Path) -> bool:
    return any(e["event"] == "run-started" for e in _events(run_dir))


def _stopping(run_dir: Path) -> bool:
    return any(e["event"] == "stop" for e in _events(run_dir))


MOMENTS: dict[str, Callable[[Path, bool], bool]] = {
    "during start": lambda d, brokered: _beam_booting(d) if brokered else bool(_node_pids(d)),
    "mid-run": lambda d, brokered: _started(d),
    "during stop": lambda d, brokered: _stopping(d),
}


def _launch(how: str, topo: Path, root: Path, env: dict[str, str]) -> subprocess.Popen:
    if how == "runner":
        args = ["-m", "labgui", "run", str(topo), "--out", str(root / "run"), "--duration", str(RUN_SECONDS)]
    elif how == "supervisor":
        args = [str(HERE / "drive_supervisor.py"), str(topo), str(root / "run"), str(RUN_SECONDS)]
    else:
        args = [str(HERE / "drive_gui.py"), str(topo), str(root), str(RUN_SECONDS)]
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(root / "launcher.err", "wb"))  # noqa: SIM115 - closed with the process


def _run_dir(root: Path) -> Path | None:
    found = [p.parent for p in root.glob("*/events.jsonl")]
    return found[0] if found else None


def _kill_at(moment: str, brokered: bool, launcher: subprocess.Popen, root: Path) -> Path:
    """Wait for the moment (bounded), SIGKILL the launcher there; return the run directory."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert launcher.poll() is None, (root / "launcher.err").read_text()[-3000:]
        run_dir = _run_dir(root)
        if run_dir is not None and MOMENTS[moment](run_dir, brokered):
            if moment == "mid-run":
                time.sleep(1.0)
            launcher.send_signal(signal.SIGKILL)
            launcher.wait(timeout=10)
            return run_dir
        time.sleep(0.02)
    raise AssertionError(f"the run never reached '{moment}'")


def _left_after(run_dir: Path, deadline: float) -> list[str]:
    """What of the run is alive at `deadline`: the first clean scan before it, or else a scan
    begun at it. One scan of every process can take seconds on a loaded machine, so a scan begun
    before the deadline sees the reaper that is still sweeping at its start and gone at its end."""
    while True:
        began = time.monotonic()
        left = leftovers(run_dir)
        if not left and not portreg.entry_path(run_dir).exists():
            return []
        if began >= deadline:
            return left
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))


def _check_one(how: str, brokered: bool, moment: str, tmp_path: Path, env: dict[str, str]) -> None:
    root = tmp_path / moment.replace(" ", "-")
    root.mkdir()
    topo = root / "hygiene.topo.yaml"
    topo.write_text(BROKERED if brokered else BROKERLESS, encoding="utf-8")
    launcher = _launch(how, topo, root, env)
    run_dir = None
    try:
        run_dir = _kill_at(moment, brokered, launcher, root)
        left = _left_after(run_dir, time.monotonic() + 5.0)
        assert not left, f"{how} SIGKILLed {moment}: left behind after 5 s:\n" + "\n".join(left)
        assert not portreg.entry_path(run_dir).exists(), "the run's ports were never released"
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait(timeout=10)
        if run_dir is not None:
            reaper.sweep(run_dir, budget_s=10, quiet_s=0.5)  # never leak into the next test


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The launchers' environment: offscreen Qt, private state and port registry."""
    ports = tmp_path / "ports"
    os.environ[portreg.ENV_DIR] = str(ports)  # this test process reads the same registry
    return {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen",
            "LAB_STATE_DIR": str(tmp_path / "state"), portreg.ENV_DIR: str(ports)}


@pytest.fixture(autouse=True)
def _restore_ports_dir():
    before = os.environ.get(portreg.ENV_DIR)
    yield
    if before is None:
        os.environ.pop(portreg.ENV_DIR, None)
    else:
        os.environ[portreg.ENV_DIR] = before


@pytest.mark.timeout(240)
@pytest.mark.parametrize("how", ["runner", "supervisor", "gui"])
def test_brokerless_run_killed_at_any_moment_leaves_nothing(how: str, tmp_path: Path,
                                                            env: dict[str, str]) -> None:
    for moment in MOMENTS:
        _check_one(how, False, moment, tmp_path, env)


@pytest.mark.rabbitmq
@pytest.mark.skipif(RABBIT_MISSING is not None, reason=str(RABBIT_MISSING))
@pytest.mark.timeout(180)
@pytest.mark.parametrize(("how", "moment"), [("gui", "during start"), ("supervisor", "mid-run"),
                                             ("runner", "during stop")])
def test_brokered_run_killed_at_any_moment_leaves_nothing(how: str, moment: str, tmp_path: Path,
                                                          env: dict[str, str]) -> None:
    _check_one(how, True, moment, tmp_path, env)
