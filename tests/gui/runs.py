"""Helpers for run-mode tests: open a changed example, wait for phases, prove nothing outlived a run."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from engines.brokers import rabbitmq_available
from labgui.app.mainwindow import MainWindow
from tests.conftest import EXAMPLES

RABBIT_MISSING = rabbitmq_available()
needs_rabbitmq = pytest.mark.skipif(RABBIT_MISSING is not None, reason=f"needs RabbitMQ: {RABBIT_MISSING}")


def by_hand(data: dict[str, Any]) -> None:
    """A brokered example without its scenario or end: the test acts by hand and stops it
    (its 'checkout' client sends until then)."""
    data["scenario"] = []
    data.pop("duration_s", None)
    node(data, "checkout")["count"] = 100_000


def open_example(window: MainWindow, tmp_path: Path, prefix: str,
                 change: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """Open a copy of example `prefix`, changed by `change(data)` (the YAML as a dict)."""
    source = next(p for p in EXAMPLES if p.name.startswith(prefix))
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    if change is not None:
        change(data)
    path = tmp_path / source.name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert window.open_file(path)
    window.run_mode.run_root = tmp_path / "runs"
    return path


def node(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for n in data["nodes"] if n["name"] == name)


def wait_phase(qtbot: Any, window: MainWindow, phases: tuple[str, ...], timeout_s: float) -> None:
    qtbot.waitUntil(lambda: window.run_mode.phase in phases, timeout=int(timeout_s * 1000))


def wait_state(qtbot: Any, window: MainWindow, name: str, states: tuple[str, ...], timeout_s: float) -> None:
    """Until the canvas (not the supervisor) shows the node in one of `states`."""
    item = window.scene.node_item(name)
    qtbot.waitUntil(lambda: item.state in states, timeout=int(timeout_s * 1000))


def menu_action(window: MainWindow, item: object, name: str) -> Any:
    """The run-mode context-menu entry `run-<name>` for an item, as a right-click shows it."""
    def walk(menu: Any) -> list[Any]:
        found = []
        for action in menu.actions():
            found.append(action)
            if action.menu() is not None:
                found += walk(action.menu())
        return found

    return next(a for a in walk(window.build_context_menu(item)) if a.objectName() == f"run-{name}")


def recorded_pids(run_dir: Path) -> list[int]:
    data = json.loads((run_dir / "pids.json").read_text(encoding="utf-8"))
    pids = [pid for n in data["nodes"].values() for pid in n.get("pids", [])]
    return pids + [pid for group in data.get("brokers", {}).values() for pid in group]


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def assert_run_left_nothing(window: MainWindow, extra_pids: list[int] = (), timeout_s: float = 30) -> None:
    """No node, beam or epmd process of the run: by recorded pid, and by the run folder in any cmdline."""
    session = window.run_mode.session
    assert session is not None and session.join(timeout_s), "the run did not close"
    assert session.wait_done(timeout_s), "the run's worker (summary, report) did not finish"
    run_dir = session.sup.run_dir
    deadline = time.monotonic() + 5
    pids = set(recorded_pids(run_dir)) | set(extra_pids)
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    assert not [p for p in pids if alive(p)], "processes of the run are still alive"
    marker = str(run_dir.resolve())
    left = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if marker in cmd and alive(proc.pid):
            left.append((proc.pid, cmd[:120]))
    assert not left, f"processes still run from {run_dir}: {left}"
    ledger = window.run_mode.ledger
    while ledger is not None and ledger.alive and time.monotonic() < deadline + 10:
        time.sleep(0.1)
    assert ledger is None or not ledger.alive, "the live ledger's helper outlived the run"
