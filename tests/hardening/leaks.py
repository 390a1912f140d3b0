"""Finding what a run left behind, independently of the lab's own reaper.

A process belongs to a run when its command line names the run directory (node
processes, the reaper, beam's `-mnesia dir`), names one of the run's managed
RabbitMQ nodes, when its environment points into the run directory (a
broker's helpers: erl_child_setup, inet_gethost, `sh -s rabbit_disk_monitor`),
or when it is an Erlang process pointed at one of the run's private epmd
ports, or that listens on one. A port belongs to
a run when a spec or a broker state file of the run lists it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import psutil

ERLANG = ("epmd", "beam.smp", "erl_child_setup", "inet_gethost")


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def broker_states(run_dir: Path) -> list[dict]:
    return [_json(p) for p in sorted(Path(run_dir).glob("brokers/*/state.json"))]


def run_ports(run_dir: Path) -> set[int]:
    """Every port the run planned: node listeners, the telemetry socket, broker ports."""
    ports: set[int] = set()
    for spec_path in Path(run_dir).glob("nodes/*/spec.json"):
        spec = _json(spec_path)
        for address in [*spec.get("listen", {}).values(), spec.get("telemetry", "")]:
            tail = str(address).rpartition(":")[2]
            if tail.isdigit():
                ports.add(int(tail))
    for state in broker_states(run_dir):
        ports |= {int(state[k]) for k in ("amqp_port", "dist_port", "epmd_port") if state.get(k)}
    return ports


def _on_port(proc: psutil.Process, ports: set[str]) -> bool:
    try:
        return any(c.status == psutil.CONN_LISTEN and str(c.laddr.port) in ports
                   for c in proc.net_connections(kind="tcp"))
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def run_processes(run_dir: Path) -> list[psutil.Process]:
    """Live (not zombie) processes that belong to the run."""
    run_dir = Path(run_dir).resolve()
    marker = str(run_dir)
    nodenames = [s["nodename"] for s in broker_states(run_dir) if s.get("nodename")]
    epmd_ports = {str(s["epmd_port"]) for s in broker_states(run_dir) if s.get("epmd_port")}
    skip = {os.getpid(), *(p.pid for p in psutil.Process().parents())}
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        if proc.pid in skip or proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        cmd = " ".join(proc.info["cmdline"] or [])
        mine = marker in cmd or any(n in cmd for n in nodenames)
        if not mine:  # any process (a broker's `sh` helper too) whose environment points into the run
            try:
                env = proc.environ()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                env = {}
            mine = any(str(v).startswith(marker) for v in env.values())
            if not mine and proc.info["name"] in ERLANG:  # the socket table (psutil parses all of
                # it per process, seconds in a busy suite) only for one that does not say its port
                told = env.get("ERL_EPMD_PORT")
                mine = told in epmd_ports if told else _on_port(proc, epmd_ports)
        if mine:
            found.append(proc)
    return found


def listening(run_dir: Path) -> list[tuple[int, int | None]]:
    """(port, pid) of LISTEN sockets on the run's ports held by the run or by nobody we can see."""
    ports = run_ports(run_dir)
    ours = {p.pid for p in run_processes(run_dir)}
    out = []
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port in ports:
            if conn.pid is None or conn.pid in ours:
                out.append((conn.laddr.port, conn.pid))
    return out


def leftovers(run_dir: Path) -> list[str]:
    """What of the run is still alive, as readable lines (empty: nothing)."""
    lines = []
    for proc in run_processes(run_dir):
        try:
            lines.append(f"process {proc.pid} {proc.name()}: {' '.join(proc.cmdline())[:160]}")
        except psutil.NoSuchProcess:
            continue
    lines += [f"port {port} listened on by pid {pid}" for port, pid in listening(run_dir)]
    return lines
