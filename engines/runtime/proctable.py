"""The table of node processes: state, pid of each life, how we expect it to end, where it logs.

Also written to `pids.json` in the run directory at every change, so a test
(or a person) can find every process a run ever started, even after the
supervisor itself was SIGKILLed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import engines
from engines.hygiene import RUN_MARK
from engines.runtime.diskfull import DiskFull

PROJECT_ROOT = Path(engines.__file__).resolve().parent.parent
# Nodes start with `python -S`: no `site` at start-up (its .pth files, among them the editable
# install's import finder, cost about 20 ms of CPU a process, a fifth of a node's start). Their
# path is then the project, this interpreter's package folders, and the caller's PYTHONPATH.
PACKAGE_DIRS = [p for p in sys.path if p and Path(p).name in ("site-packages", "dist-packages")]
RUNNING = ("starting", "ready", "done", "paused")


@dataclass
class NodeProcess:
    """One node: a client or service process (one per life), or a broker behind its handle."""

    name: str
    kind: str  # client | service | broker
    node_dir: Path
    state: str = "idle"
    popen: subprocess.Popen[bytes] | None = None
    pids: list[int] = field(default_factory=list)
    expected: str | None = None  # "kill" or "stop" when we asked it to end
    stop_deadline: float | None = None
    exit_code: int | None = None
    reason: str = ""
    before_pause: str = "ready"
    lives: int = 0
    start_pending: bool = False  # a new life is queued in the spawner
    ready_wall: float | None = None  # time.time() at which this life said it was ready
    crash_log: str = ""  # the end of its log when it last crashed (for the events and the summary)
    report_deadline: float | None = None  # exited; its last report is awaited until then

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None else None

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def spec_path(self) -> Path:
        return self.node_dir / "spec.json"

    @property
    def log_path(self) -> Path:
        return self.node_dir / "node.log"


class ProcessTable:
    def __init__(self, path: Path, disk: DiskFull | None = None) -> None:
        self.path = path
        self.disk = disk or DiskFull()
        self.nodes: dict[str, NodeProcess] = {}
        self.extra_pids: dict[str, list[int]] = {}  # brokers: pids their handles report
        self.lock = threading.RLock()
        # called with each new process's pid by the spawner thread right after it exists (a GUI
        # lowers its priority there, before it has imported anything); must not raise
        self.on_spawn: Callable[[int], None] | None = None

    def add(self, node: NodeProcess) -> None:
        with self.lock:
            self.nodes[node.name] = node

    def spawn(self, node: NodeProcess) -> None:
        """Start one life of a node (call from the supervisor's spawner thread only)."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH"),
                                                          *PACKAGE_DIRS]))
        env["PYTHONUNBUFFERED"] = "1"
        env[RUN_MARK] = str(node.node_dir.resolve().parents[1])  # <run>/nodes/<name>: the reaper's mark
        node.node_dir.mkdir(parents=True, exist_ok=True)
        with open(node.log_path, "ab") as log:
            log.write(f"--- life {node.lives + 1} starting at {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            popen = subprocess.Popen(
                [sys.executable, "-S", "-m", "engines.nodes", str(node.spec_path)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=str(PROJECT_ROOT), env=env, close_fds=True,
                start_new_session=True,  # the terminal's Ctrl-C is for the supervisor, not the nodes
            )
        if self.on_spawn is not None:
            self.on_spawn(popen.pid)
        with self.lock:
            node.popen = popen
            node.pids.append(popen.pid)
            node.lives += 1
            node.state = "starting"
            node.expected = None
            node.stop_deadline = None
            node.exit_code = None
            node.reason = ""
            node.start_pending = False
        self.save()

    def save(self) -> None:
        with self.lock:
            data = {
                "supervisor": os.getpid(),
                "nodes": {n.name: {"kind": n.kind, "pid": n.pid, "pids": n.pids, "state": n.state}
                          for n in self.nodes.values()},
                "brokers": self.extra_pids,
            }
            tmp = self.path.with_suffix(".tmp")  # one writer at a time: the lock is held
            try:
                # compact: the C encoder (`indent` takes the pure-Python one, 20 ms of a loaded
                # spawner thread per spawn at 100 nodes, for a file read only by programs)
                tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
                os.replace(tmp, self.path)
            except OSError as exc:  # a full disk must not kill the monitor thread that saves
                tmp.unlink(missing_ok=True)
                self.disk.note(self.path.name, exc)

    def all_pids(self) -> list[int]:
        with self.lock:
            pids = [pid for n in self.nodes.values() for pid in n.pids]
            pids += [pid for group in self.extra_pids.values() for pid in group]
        return pids

    def live_pids(self) -> list[int]:
        """Each node's current process while it is not reaped (a reaped one's pid may already
        be another program's), and the pids the brokers' handles last reported."""
        with self.lock:
            pids = [n.popen.pid for n in self.nodes.values() if n.popen is not None and n.popen.returncode is None]
            pids += [pid for group in self.extra_pids.values() for pid in group]
        return pids


def log_tail(path: Path, lines: int = 15) -> str:
    """The end of a node's log, to quote in an error."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.strip().splitlines()[-lines:])
