"""Ports are never handed out while a run that holds them is alive, and are free once it is gone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from engines.brokers import procs, rabbitmq_available
from engines.hygiene import portrange, portreg
from engines.runtime import ports as ports_module
from engines.runtime.ports import PortError, Ports
from tests.conftest import ROOT

HOLDER = textwrap.dedent("""
    import socket, sys, time
    from engines.hygiene.portreg import RunPorts
    run = RunPorts(sys.argv[1])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert run.claim(port)
    print(port, flush=True)
    time.sleep(120)
""")


@pytest.fixture(autouse=True)
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ports"
    monkeypatch.setenv(portreg.ENV_DIR, str(path))
    return path


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    """Another run, in its own process, holding one port it does not listen on."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "other-run")], env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        yield proc, int(proc.stdout.readline())  # type: ignore[union-attr]
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _unused_ports(n: int) -> list[int]:
    """n ports nobody listens on now (the kernel's choice, held open together so they differ)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@pytest.mark.timeout(60)
def test_a_live_runs_port_is_refused_until_its_owner_dies(holder, tmp_path: Path) -> None:
    proc, port = holder
    mine = portreg.RunPorts(tmp_path / "my-run")
    assert port in portreg.held_ports()
    assert not mine.claim(port), "a port another live run holds was handed out"
    proc.kill()
    proc.wait(timeout=10)
    assert port not in portreg.held_ports()
    assert mine.claim(port)
    assert not portreg.entry_path(tmp_path / "other-run").exists(), "a dead run's entry is dropped"


@pytest.mark.timeout(60)
def test_a_step_of_the_wall_clock_frees_no_port_and_kills_no_run(holder, monkeypatch: pytest.MonkeyPatch) -> None:
    """A VM paused 3 s, its clock stepped on resume: psutil's create_time() of every process moves
    by 3 s (it adds the boot time, which Linux derives from the wall clock). Owners compared by it
    looked dead: their ports were handed out again, and reapers killed four live runs of a suite."""
    proc, port = holder
    stepped = psutil.Process.create_time
    monkeypatch.setattr(psutil.Process, "create_time", lambda self: stepped(self) + 3.0)
    assert port in portreg.held_ports()  # the other run still owns its port
    assert portreg.alive(portreg.owner())  # what a reaper asks of its supervisor
    proc.kill()
    proc.wait(timeout=10)
    assert port not in portreg.held_ports()  # and a run that did end still frees its ports


@pytest.mark.timeout(60)
def test_planning_skips_ports_held_by_another_run(holder, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _, held = holder
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        other = s.getsockname()[1]
    monkeypatch.setattr(ports_module, "candidates", lambda: iter([held, other]))
    assert Ports(registry=portreg.RunPorts(tmp_path / "my-run")).free() == other
    with pytest.raises(PortError, match="another run"):
        Ports(registry=portreg.RunPorts(tmp_path / "third-run")).fixed(held)


@pytest.mark.timeout(60)
def test_broker_ports_skip_ports_held_by_another_run(holder, monkeypatch: pytest.MonkeyPatch) -> None:
    _, held = holder
    free = _unused_ports(3)
    monkeypatch.setattr(portrange, "candidates", lambda: iter([held, *free]))
    assert procs.free_ports(3) == free


def test_broker_ports_of_a_live_run_are_held(tmp_path: Path) -> None:
    run = portreg.RunPorts(tmp_path / "run")
    state = tmp_path / "run" / "brokers" / "rabbit" / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text('{"amqp_port": 41001, "dist_port": 41002, "epmd_port": 41003, "mgmt_port": 41004}')
    assert {41001, 41002, 41003, 41004} <= portreg.held_ports()
    run.release()
    assert not {41001, 41002, 41003, 41004} & portreg.held_ports()


@pytest.mark.skipif(rabbitmq_available() is not None, reason="needs RabbitMQ")
def test_a_brokers_ports_are_held_from_their_pick_until_it_is_closed(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A node binds its ports seconds after they are picked (its VM boots first), and a test's
    or a benchmark's broker has no run to list them: until it is closed, nobody else gets them
    (two suites' workers once booted two nodes on one AMQP port: could_not_start_listener)."""
    from engines.brokers import ClusterBroker, ManagedBroker

    broker = ManagedBroker("rabbit", tmp_path / "alone")
    layout = broker.layout
    mine = {layout.amqp_port, layout.dist_port, layout.epmd_port, layout.mgmt_port}
    assert mine <= portreg.held_ports()
    assert not portreg.RunPorts(tmp_path / "other-run").claim(layout.amqp_port)
    free = _unused_ports(1)
    with monkeypatch.context() as patch:
        patch.setattr(portrange, "candidates", lambda: iter([layout.mgmt_port, *free]))
        assert procs.free_ports(1, holder=tmp_path / "another") == free  # though nothing listens on it yet
    cluster = ClusterBroker("cl", tmp_path / "alone", 2)
    members = {p for lay in cluster.layouts for p in (lay.amqp_port, lay.dist_port, lay.mgmt_port, lay.epmd_port)}
    assert members <= portreg.held_ports() and not members & mine
    broker.close()
    cluster.close()
    assert not (mine | members) & portreg.held_ports() - set(free)
