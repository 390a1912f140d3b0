"""Security of a run: loopback listeners, private files and credentials, gated telemetry, no shell.

Why each matters: every listener is a port any local process can reach, so
it binds to loopback (unless the file says otherwise) and checks what it
reads; the telemetry socket decides node states and live counters, so it
accepts only the run's own nodes; spec files and broker configs carry
credentials; and a topology file is data, never a command.
"""

from __future__ import annotations

import ast
import ipaddress
import json
import socket
import stat
import time
from pathlib import Path

import msgpack
import psutil
import pytest
import zmq
from zmq.utils.monitor import recv_monitor_message

from engines.brokers import amqp_ready
from engines.runtime import RunError, Supervisor
from engines.topology import topofile
from engines.topology.problems import TopologyError
from tests.brokers.conftest import RABBIT_MISSING
from tests.conftest import ROOT
from tests.hardening.leaks import run_processes

BROKERLESS = """
version: 1
name: security
nodes:
  - {name: events, kind: client, style: notification, transport: zmq, rate: 300, count: 2400}
  - {name: asker, kind: client, style: async-request-response, transport: zmq, rate: 300, count: 1500}
  - {name: ticker, kind: client, style: publish-async-responses, transport: zmq, rate: 100, count: 500}
  - {name: shop, kind: client, style: request-response, transport: http, rate: 150, count: 600}
  - {name: worker, kind: service}
  - {name: answerer, kind: service}
  - {name: inventory, kind: service}
links:
  - {from: events, to: worker}
  - {from: asker, to: answerer}
  - {from: ticker, to: worker}
  - {from: shop, to: inventory}
"""

BROKERED = """
version: 1
name: security-brokered
nodes:
  - {name: orders, kind: client, style: notification, transport: amqp, rate: 200, count: 600}
  - {name: asker, kind: client, style: async-request-response, transport: zmq, rate: 200, count: 600}
  - {name: rabbit, kind: broker}
  - {name: billing, kind: service}
  - {name: answerer, kind: service}
links:
  - {from: orders, to: rabbit, channel: orders}
  - {from: rabbit, to: billing}
  - {from: asker, to: answerer}
"""


def _listening(procs: list[psutil.Process]) -> list[tuple[str, int, str]]:
    out = []
    for proc in procs:
        try:
            conns = proc.net_connections(kind="inet")
            name = proc.name()
        except psutil.NoSuchProcess:
            continue
        out += [(c.laddr.ip, c.laddr.port, name) for c in conns if c.status == psutil.CONN_LISTEN]
    return out


def _check_loopback(sup: Supervisor, seen: list[tuple[str, int, str]]) -> None:
    """Every LISTEN socket of every process of the run (and of this supervisor) is on loopback."""
    procs = [psutil.Process(), *run_processes(sup.run_dir)]
    listening = _listening(procs)
    seen += listening
    outside = [entry for entry in listening if not ipaddress.ip_address(entry[0]).is_loopback]
    assert not outside, f"listeners beyond this machine: {outside}"


_REFUSED = (zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
            | zmq.EVENT_HANDSHAKE_FAILED_AUTH)


def _await_refusal(sock: zmq.Socket[bytes], monitor: zmq.Socket[bytes], timeout_s: float = 20.0) -> None:
    """Wait until the connecting side sees its handshake refused (a loaded machine can take seconds)."""
    try:
        if monitor.poll(int(timeout_s * 1000)):
            recv_monitor_message(monitor)
    finally:
        sock.disable_monitor()
        monitor.close(linger=0)


def _forge(endpoint: str, token: str) -> None:
    """Reports from outside the run: no credentials, a wrong password, raw bytes; and a real
    node of the run (it has the token) reporting as another node. Each forged connection is
    held until it has been refused, so the run's gate has counted it before the next one."""
    forged = msgpack.packb({"t": "metrics", "node": "worker", "pid": 1, "ts": time.time(),
                            "c": {"delivered": 10**9, "applied": 10**9}, "by_client": [10**9]})
    done = msgpack.packb({"t": "event", "event": "done", "node": "events", "pid": 1})
    ctx = zmq.Context()
    # the impostor first: the run must still be going when its reports arrive
    for user, password in ((b"events", token.encode()), (b"worker", b"guess"), (None, None)):
        sock = ctx.socket(zmq.PUSH)
        sock.setsockopt(zmq.LINGER, 1000)
        if user is not None:
            sock.plain_username, sock.plain_password = user, password
        monitor = sock.get_monitor_socket(_REFUSED)
        sock.connect(endpoint)
        for _ in range(5):
            sock.send(forged)
            sock.send(done)
        if user == b"events":
            time.sleep(0.3)
            sock.disable_monitor()
            monitor.close(linger=0)
        else:
            _await_refusal(sock, monitor)
        sock.close()
    ctx.term()
    host, _, port = endpoint.removeprefix("tcp://").rpartition(":")
    with socket.create_connection((host, int(port)), timeout=20) as conn:
        conn.sendall(b"\xff" * 64 + b"not zmq at all")
        try:
            while conn.recv(4096):  # the gate's greeting, then its close (or reset): refused
                pass
        except ConnectionResetError:
            pass


@pytest.mark.timeout(120)
def test_listeners_on_loopback_and_telemetry_only_from_the_runs_nodes(tmp_path: Path) -> None:
    seen: list[tuple[str, int, str]] = []
    forged: list[bool] = []

    def on_tick(sup: Supervisor) -> None:
        if sup.started_at is None:
            return
        if len({port for _, port, _ in seen}) < 6:  # each tick until every listener is up: a loaded
            _check_loopback(sup, seen)  # machine starts a late client's listeners after the first's
        if forged or sup.elapsed() < 1.0:
            return
        spec = json.loads((sup.run_dir / "nodes" / "events" / "spec.json").read_text())
        forged.append(True)
        # within the tick, so the run cannot end (and write its summary) before the gate has
        # refused every forged connection: on a loaded machine the forging outlasted the run
        _forge(spec["telemetry"], spec["telemetry_token"])

    with Supervisor(topofile.loads(BROKERLESS).topology, tmp_path / "run") as sup:
        summary = sup.run(on_tick=on_tick)
        assert forged
        worker = sup.metrics.totals("worker") if sup.metrics else {}
    assert len({port for _, port, _ in seen}) >= 6, seen  # telemetry, PULL, ROUTER, HTTP, XPUB, ROUTER
    nodes = summary["nodes"]
    assert nodes["worker"]["delivered"] == 2400 + 500 and worker["delivered"] == 2900
    assert nodes["events"]["sent"] == nodes["events"]["processed"] == 2400
    rejected = summary["telemetry_rejected"]
    assert rejected.get("handshake", 0) >= 2, rejected  # no credentials; raw bytes; wrong password
    assert rejected.get("credentials", 0) >= 1, rejected  # the wrong password, refused by ZAP
    assert rejected.get("impostor", 0) == 5, rejected  # the run's token, but reporting as 'worker'
    # (its 'done' events as itself got through, and were ignored: no life of 'events' has pid 1)
    assert summary["node_states"]["events"]["state"] == "exited"
    run = sup.run_dir
    assert stat.S_IMODE(run.stat().st_mode) == 0o700
    for spec in run.glob("nodes/*/spec.json"):
        assert stat.S_IMODE(spec.stat().st_mode) == 0o600, spec


@pytest.mark.rabbitmq
@pytest.mark.skipif(RABBIT_MISSING is not None, reason=str(RABBIT_MISSING))
@pytest.mark.timeout(180)
def test_brokered_run_loopback_private_credentials_never_guest(tmp_path: Path) -> None:
    seen: list[tuple[str, int, str]] = []
    checked: list[str] = []

    def on_tick(sup: Supervisor) -> None:
        if sup.started_at is None or checked or sup.elapsed() < 1.0:
            return
        _check_loopback(sup, seen)
        handle = sup.brokers["rabbit"]
        layout = handle.layout
        assert not amqp_ready(f"amqp://guest:guest@127.0.0.1:{layout.amqp_port}/%2F", timeout=3)
        assert amqp_ready(handle.url, timeout=5)
        checked.append(handle.url)
        dist = [ip for ip, port, _ in seen if port == layout.dist_port]
        assert dist and all(ipaddress.ip_address(ip).is_loopback for ip in dist), seen
        assert stat.S_IMODE(layout.cookie_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(layout.config_file.stat().st_mode) == 0o600

    with Supervisor(topofile.loads(BROKERED).topology, tmp_path / "run") as sup:
        summary = sup.run(on_tick=on_tick)
    assert checked, "the run never got to the checks"
    user = checked[0].split("//")[1].split(":")[0]
    assert user != "guest" and user.startswith("lab-")
    assert {"beam.smp", "epmd"} <= {name for _, _, name in seen}
    assert summary["nodes"]["orders"]["lost"] == 0


HOSTILE = """
version: 1
name: hostile-strings
description: "$(touch {p}/desc) `touch {p}/desc2`; touch {p}/desc3"
nodes:
  - {{name: events, kind: client, style: notification, transport: zmq, rate: 200, count: 200,
     description: "$(touch {p}/node)"}}
  - {{name: worker, kind: service, description: "; touch {p}/service"}}
links:
  - {{from: events, to: worker, name: "$(touch {p}/link)", routing_key: "`touch {p}/key`"}}
"""

REMOTE = """
version: 1
name: hostile-url
nodes:
  - {{name: orders, kind: client, style: notification, transport: amqp, rate: 50, count: 50}}
  - {{name: remote, kind: broker, url: "amqp://x;touch {p}/url@127.0.0.1:1/%2F"}}
  - {{name: billing, kind: service}}
links:
  - {{from: orders, to: remote, channel: orders}}
  - {{from: remote, to: billing}}
"""


@pytest.mark.timeout(120)
def test_hostile_strings_in_a_file_never_reach_a_shell(tmp_path: Path) -> None:
    """Names cannot carry them (refused); descriptions, link names, routing keys, a broker URL
    and a bind address that do are only ever data: the run goes on or fails clearly."""
    pwned = tmp_path / "pwned"
    pwned.mkdir()
    text = HOSTILE.format(p=pwned)
    for bad in ("$(touch {p}/name)", "a;touch {p}/name", "`touch {p}/name`"):
        with pytest.raises(TopologyError):
            topofile.loads(text.replace("name: worker,", f"name: \"{bad.format(p=pwned)}\","))
    with pytest.raises(TopologyError):
        topofile.loads(text + f'expectations:\n  - "lost == 0; touch {pwned}/exp"\n')
    with Supervisor(topofile.loads(text).topology, tmp_path / "run") as sup:
        summary = sup.run(duration=10)
    assert summary["nodes"]["events"]["processed"] == 200
    bind = text.replace("name: worker,", f"name: worker, bind: \"127.0.0.1;touch {pwned}/bind\",")
    with Supervisor(topofile.loads(bind).topology, tmp_path / "run-bind") as sup, \
            pytest.raises(RunError, match="cannot"):
        sup.start()
    remote = topofile.loads(REMOTE.format(p=pwned)).topology
    with Supervisor(remote, tmp_path / "run-url", ready_timeout_s=2) as sup, pytest.raises(RunError):
        sup.start()
    assert list(pwned.iterdir()) == []


SHELL_CALLS = {"system", "popen", "getoutput", "getstatusoutput", "execl", "execlp", "execle", "execv",
               "execvp", "execvpe", "spawnl", "spawnlp", "spawnv", "spawnvp"}


def test_no_shell_anywhere_in_the_lab() -> None:
    """No shell=True, os.system, os.popen or a command given as one string: arguments are lists."""
    found = []
    for path in [*(ROOT / "engines").rglob("*.py"), *(ROOT / "labgui").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if any(k.arg == "shell" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                   for k in node.keywords):
                found.append(f"{where} shell=")
            if name in SHELL_CALLS and isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "os":
                found.append(f"{where} os.{name}")
            if name in ("Popen", "run", "call", "check_call", "check_output") and node.args and \
                    isinstance(node.args[0], (ast.Constant, ast.JoinedStr, ast.BinOp)):
                found.append(f"{where} {name} with a command string")
    assert not found, found
