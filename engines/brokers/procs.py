"""Process plumbing for managed brokers: free ports, parent-death signal, tree kill, epmd.

beam.smp's helpers (erl_child_setup, inet_gethost) start their own process
groups and epmd daemonises, so neither killpg nor a plain kill of the beam pid
is enough: we walk the tree with psutil and find epmd by its private port.
"""

from __future__ import annotations

import ctypes
import os
import queue
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import psutil

from engines.hygiene import epmd

_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)


def free_ports(count: int, host: str = "127.0.0.1", holder: Path | None = None) -> list[int]:
    """`count` distinct loopback ports free right now, below the kernel's ephemeral range
    (engines.hygiene.portrange), none of them held by another live run of the lab
    (engines.hygiene.portreg). With `holder` (a broker's directory) they are held for it from
    this moment: its node binds them seconds later, and nobody may take them meanwhile."""
    from engines.hygiene import portreg
    from engines.hygiene.portrange import bind_free, candidates

    def choose(held: set[int]) -> list[int]:
        ports: list[int] = []
        tries = candidates()
        for _ in range(count + 500):
            port = bind_free(host, next(tries))
            if port is not None and port not in held and port not in ports:
                ports.append(port)
            if len(ports) == count:
                return ports
        raise OSError(f"no {count} free ports outside those held by live runs")

    if holder is None:
        return choose(portreg.held_ports())
    return portreg.hold_free(holder, choose)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None]:
    """A preexec_fn: the child gets `sig` when the thread that spawned it dies.

    The signal survives the exec chain rabbitmq-server -> erl -> erlexec ->
    beam.smp (all exec, no fork), so a SIGKILLed lab takes its beam with it.
    """

    prctl = _LIBC.prctl  # resolved before fork: the child only calls it
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        # The parent may already have died between fork and prctl.
        if os.getppid() != parent:
            os.kill(os.getpid(), int(sig))

    return preexec


T = TypeVar("T")


class _Spawner:
    """One long-lived thread that forks every managed broker.

    PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not
    the process: a broker restarted from a scenario thread would die with
    that thread. Forking from this thread, which lives as long as the process,
    ties the broker to the process instead.
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], Any], queue.Queue[tuple[bool, Any]]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def call(self, fn: Callable[[], T]) -> T:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="broker-spawner", daemon=True)
                self._thread.start()
        answer: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
        self._jobs.put((fn, answer))
        ok, value = answer.get()
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def _serve(self) -> None:
        while True:
            fn, answer = self._jobs.get()
            try:
                answer.put((True, fn()))
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                answer.put((False, exc))


spawner = _Spawner()


def tree(pid: int) -> list[psutil.Process]:
    """The process and its descendants that are alive (zombies excluded)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
    return [p for p in procs if _alive(p)]


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def signal_all(procs: Iterable[psutil.Process], sig: int) -> None:
    for proc in procs:
        try:
            proc.send_signal(sig)
        except (psutil.NoSuchProcess, ProcessLookupError):
            pass


def wait_stopped(procs: list[psutil.Process], timeout: float = 5.0) -> bool:
    """Wait until every process shows as stopped (SIGSTOP is delivered asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if all(p.status() in (psutil.STATUS_STOPPED, psutil.STATUS_ZOMBIE) for p in procs):
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.01)
    return False


def kill_and_wait(procs: list[psutil.Process], timeout: float = 10.0) -> list[psutil.Process]:
    """SIGKILL every process and wait until each is dead; return any still alive (none, normally).

    A zombie counts as dead: beam's helpers are reparented to init when beam
    dies, and init may take a second to reap them (psutil.wait_procs would wait).
    """
    signal_all(procs, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    alive = list(procs)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _alive(p)]
        if alive:
            time.sleep(0.01)
    return alive


def epmd_processes(port: int) -> list[psutil.Process]:
    """epmd daemons for `port` (ours: each managed node has a private port), listening or about
    to: by the port each was told (engines.hygiene.epmd), not by the socket table."""
    return [proc for proc in psutil.process_iter(["name"])
            if proc.info["name"] == "epmd" and _alive(proc) and epmd.port_of(proc) == port]


def accepts(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    """Something listens on host:port and accepts a connection (epmd, once it is up)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def kill_epmd(port: int, epmd: str = "epmd", timeout: float = 5.0) -> None:
    """Stop the epmd on `port`: ask it (`epmd -kill`), then SIGKILL whatever still listens."""
    env = dict(os.environ, ERL_EPMD_PORT=str(port), ERL_EPMD_ADDRESS="127.0.0.1")
    try:
        subprocess.run(
            [epmd, "-kill"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=timeout, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = epmd_processes(port)
        if not left:
            return
        kill_and_wait(left, timeout=1.0)
