"""A per-user registry of the ports held by live runs, so no run takes another's port.

Why: a run picks its ports before its nodes start (bind port 0, close), and a
killed service keeps its port for its restart. Between those moments nothing
listens on the port, so the operating system would hand it to the next run
that asks. Each run therefore records its ports in one small file under the
user's state directory, with the processes that own the run (the supervisor
and its reaper, by pid and start time). A port listed by a run with a live
owner is never handed out again; once every owner is gone (the reaper removes
the file after it has killed whatever the run left), the ports are free.

A managed broker's ports are held from the moment they are picked
(`hold_free`, an entry for the broker's directory owned by the process that
runs it): its node binds them seconds later, and a standalone broker (a test's,
a benchmark's) has no run entry to list them. A run's broker ports are also read
from its `brokers/*/state.json`, for the reaper's sake after its supervisor died.
Everything is under one `flock`, so two runs starting at once get distinct ports.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import platformdirs
import psutil

ENV_DIR = "LAB_PORTS_DIR"


def registry_dir() -> Path:
    """`$LAB_PORTS_DIR`, else `<user state dir>/topology-lab/ports` (private: 0700)."""
    path = Path(os.environ.get(ENV_DIR) or Path(platformdirs.user_state_dir("topology-lab")) / "ports")
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)
    return path


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def start_ticks(pid: int) -> float | None:
    """When `pid` started, in clock ticks after boot (/proc/<pid>/stat): unlike psutil's
    create_time(), not moved by a step of the wall clock. create_time() adds the boot time, which
    Linux derives from the wall clock (/proc/stat btime, whole seconds): a VM paused for 3 s and
    its clock stepped on resume moved every process's create_time by 3 s, and reapers comparing
    start times to 10 ms took four live supervisors of a suite for dead and killed their runs.
    Where there is no /proc, psutil's create_time(). None when the process is gone."""
    if not os.path.isdir("/proc/self"):
        try:
            return psutil.Process(pid).create_time()
        except psutil.Error:
            return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        # after the command name (in parentheses, which may hold spaces), field 22 is the 20th
        return float(stat[stat.rindex(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def owner(pid: int | None = None) -> list[float]:
    """[pid, start ticks]: a pid alone could be recycled by an unrelated process."""
    pid = os.getpid() if pid is None else pid
    started = start_ticks(pid)
    if started is None:
        raise psutil.NoSuchProcess(pid)
    return [pid, started]


def alive(record: list[float]) -> bool:
    """The process an owner() record names still runs (not a recycled pid, not a zombie)."""
    try:
        pid = int(record[0])
        return start_ticks(pid) == float(record[1]) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (psutil.Error, IndexError, TypeError, ValueError):
        return False


def _broker_ports(run_dir: str) -> set[int]:
    ports: set[int] = set()
    for path in Path(run_dir).glob("brokers/*/state.json"):
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            ports |= {int(state[k]) for k in ("amqp_port", "dist_port", "epmd_port", "mgmt_port")
                      if state.get(k)}
        except (OSError, ValueError, TypeError, AttributeError):
            continue
    return ports


def _entries(directory: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in directory.glob("*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            yield path, data


def _held(directory: Path) -> set[int]:
    """Ports of runs with a live owner; files of dead runs are removed on the way."""
    held: set[int] = set()
    for path, data in _entries(directory):
        if any(alive(o) for o in data.get("owners", [])):
            held |= {int(p) for p in data.get("ports", [])}
            held |= _broker_ports(str(data.get("run_dir", "")))
        else:
            path.unlink(missing_ok=True)
    return held


def held_ports() -> set[int]:
    """Every port a live run of this user holds (or may bind again after a restart)."""
    directory = registry_dir()
    with _locked(directory):
        return _held(directory)


def entry_path(run_dir: Path) -> Path:
    key = hashlib.sha1(str(Path(run_dir).resolve()).encode()).hexdigest()[:16]
    return registry_dir() / f"{key}.json"


def _merge(path: Path, run_dir: Path, owners: Iterable[list[float]], ports: Iterable[int]) -> None:
    """Add owners and ports to an entry (the caller holds the lock)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {"run_dir": str(run_dir), "owners": [], "ports": []}
    data["owners"] = [*data["owners"], *owners]
    data["ports"] = sorted({*data["ports"], *ports})
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def hold_free(holder: Path, choose: Callable[[set[int]], list[int]]) -> list[int]:
    """Ports chosen by `choose(held)` and recorded for `holder` (a broker's directory, owned by
    this process) under one lock: nobody else is handed them until `release(holder)` or this
    process is gone, even while nothing listens on them yet."""
    path = entry_path(holder)
    with _locked(path.parent):
        ports = choose(_held(path.parent))
        _merge(path, Path(holder).resolve(), [owner()], ports)
    return ports


class RunPorts:
    """This run's entry in the registry: its owners and the ports it was given."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir).resolve()
        self.path = entry_path(self.run_dir)
        self._update(owners=[owner()])

    def _update(self, owners: Iterable[list[float]] = (), ports: Iterable[int] = ()) -> None:
        with _locked(self.path.parent):
            self._merge(owners, ports)

    def _merge(self, owners: Iterable[list[float]], ports: Iterable[int]) -> None:
        _merge(self.path, self.run_dir, owners, ports)

    def add_owner(self, pid: int) -> None:
        self._update(owners=[owner(pid)])

    def claim(self, candidate: int) -> bool:
        """Record `candidate` for this run unless a live run (this one included) holds it."""
        with _locked(self.path.parent):
            if candidate in _held(self.path.parent):
                return False
            self._merge((), [candidate])
            return True

    def release(self) -> None:
        """The run is over and nothing of it is left: its ports are free again."""
        with _locked(self.path.parent):
            self.path.unlink(missing_ok=True)


def release(run_dir: Path) -> None:
    """`RunPorts.release` for a run known by its directory (the reaper's last act)."""
    path = entry_path(run_dir)
    with _locked(path.parent):
        path.unlink(missing_ok=True)
