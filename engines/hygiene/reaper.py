"""The run's reaper: a tiny process that cleans up after a lab that died without closing.

Why a process: the nodes and beam.smp die with the lab through their
parent-death signal, but epmd daemonises (its parent is init) and would
outlive a SIGKILLed lab; a thread of the lab dies with it. So every run
starts one reaper in its own session, holding the read end of a pipe whose
write end only the supervisor has. When the supervisor closes the run, or
dies in any way, the pipe reaches end of file and the reaper kills whatever
of the run is still alive, then frees the run's ports (engines.hygiene.portreg)
and exits. It never kills by name: only processes that carry this run's
identity (the run directory in their RUN_MARK environment variable, which
every node, broker and whatever beam forks inherits; a node's spec path under
this run directory, a managed broker's private node name, an epmd on a
broker's private port). A paused broker's helpers are stopped orphans once
beam has died: each process is woken (SIGCONT) before it is killed.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from engines.hygiene import RUN_MARK, portreg
from engines.hygiene.epmd import port_of as epmd_port_of

SWEEP_S = 4.0  # everything is gone well within the 5 s a user (or a test) waits
QUIET_S = 1.0  # after the last kill, keep looking this long (an epmd may still be daemonising)
CLEAN = b"closed\n"  # what a supervisor that closed its run writes before closing the pipe


def _broker_states(run_dir: Path) -> list[dict[str, Any]]:
    states = []
    for path in sorted(run_dir.glob("brokers/*/state.json")):
        try:
            states.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return states


def _listens_on(proc: psutil.Process, ports: set[int]) -> bool:
    try:
        return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port in ports
                   for c in proc.net_connections(kind="tcp"))
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _serves(daemon: psutil.Process, ports: set[int]) -> bool:
    """An epmd of ours, by the port it was told; only one that cannot be read is looked up in
    the socket table (psutil parses all of it per process)."""
    port = epmd_port_of(daemon)
    return port in ports if port is not None else _listens_on(daemon, ports)


def _marked(proc: psutil.Process, run_dir: str) -> bool:
    try:
        return proc.environ().get(RUN_MARK) == run_dir
    except (psutil.NoSuchProcess, psutil.AccessDenied, OSError):
        return False


def run_processes(run_dir: Path) -> list[psutil.Process]:
    """Every live process that belongs to this run, found by the run's own identity."""
    run_dir = Path(run_dir).resolve()
    nodes_prefix = str(run_dir / "nodes") + os.sep
    states = _broker_states(run_dir)
    nodenames = [str(s["nodename"]) for s in states if s.get("nodename")]
    epmd_ports = {int(s["epmd_port"]) for s in states if s.get("epmd_port")}
    me = os.getpid()
    found: list[psutil.Process] = []
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        if proc.pid == me or proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        cmd = proc.info["cmdline"] or []
        if "engines.nodes" in cmd and any(arg.startswith(nodes_prefix) for arg in cmd):
            found.append(proc)
        elif nodenames and any(n in arg for arg in cmd for n in nodenames):
            found.append(proc)  # beam.smp of a managed broker: its node name is private to the run
            try:
                found += proc.children(recursive=True)
            except psutil.NoSuchProcess:
                pass
        elif proc.info["name"] == "epmd" and epmd_ports and _serves(proc, epmd_ports):
            found.append(proc)
        elif _marked(proc, str(run_dir)):
            found.append(proc)  # an orphan of the run: a broker's helper after beam died
    return list({p.pid: p for p in found}.values())


def wake_and_kill(proc: psutil.Process) -> bool:
    """SIGCONT, then SIGKILL: a stopped process of a paused broker must not stay stopped."""
    try:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
    except psutil.NoSuchProcess:
        return False
    return True


def sweep(run_dir: Path, budget_s: float = SWEEP_S, quiet_s: float = QUIET_S) -> list[int]:
    """SIGKILL the run's processes until none has shown up for `quiet_s` (at most `budget_s`)."""
    killed: list[int] = []
    deadline = time.monotonic() + budget_s
    last_kill = time.monotonic()
    while time.monotonic() < deadline:
        procs = run_processes(run_dir)
        killed += [proc.pid for proc in procs if wake_and_kill(proc)]
        if procs:
            psutil.wait_procs(procs, timeout=1.0)
            last_kill = time.monotonic()
        elif time.monotonic() - last_kill >= quiet_s:
            break
        else:
            time.sleep(0.1)
    return killed


def wait_for_end(parent: list[float], poll_s: float = 1.0) -> bool:
    """Block until the pipe from the supervisor closes (or, as a fallback, it is gone);
    True when the supervisor said goodbye first (a clean close: one quick sweep is enough)."""
    stdin = sys.stdin.buffer
    said = b""
    while True:
        ready, _, _ = select.select([stdin], [], [], poll_s)
        if ready:
            data = os.read(stdin.fileno(), 4096)
            if not data:
                return said.endswith(CLEAN)
            said = (said + data)[-len(CLEAN):]
        elif not portreg.alive(parent):
            return False


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m engines.hygiene.reaper RUN_DIR SUPERVISOR_PID:START_TICKS", file=sys.stderr)
        return 2
    pid, _, started = argv[1].partition(":")
    run_dir, parent = Path(argv[0]).resolve(), [int(pid), float(started)]  # portreg.owner()
    clean = wait_for_end(parent)
    killed = sweep(run_dir, quiet_s=0.0 if clean else QUIET_S)
    portreg.release(run_dir)
    print(f"reaper: {'closed' if clean else 'the supervisor died'}; killed {len(killed)} "
          f"left-over process(es) {killed}; ports released", flush=True)
    return 0


class Reaper:
    """The supervisor's end: start the reaper for a run, and close the pipe at the end."""

    def __init__(self, run_dir: Path) -> None:
        run_dir = Path(run_dir).resolve()
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
        with open(run_dir / "reaper.log", "ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "engines.hygiene.reaper", str(run_dir),
                 "{}:{!r}".format(*portreg.owner())],
                stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, cwd=root, env=env,
                close_fds=True, start_new_session=True)  # a Ctrl-C or killpg of the lab spares it

    @property
    def pid(self) -> int:
        return self.popen.pid

    def close(self, timeout: float = SWEEP_S + 4) -> None:
        """Tell the reaper the run is over (call once nothing of it runs any more) and wait
        for its last sweep; idempotent."""
        if self.popen.stdin is not None and not self.popen.stdin.closed:
            try:
                self.popen.stdin.write(CLEAN)
                self.popen.stdin.close()
            except OSError:
                pass
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=5)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
