"""Ports are never handed out while a run that holds them is alive, and are free once it is gone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from engines.brokers import procs
from engines.hygiene import portreg
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


class _FakeSocket:
    """bind(port 0) hands out `offers` in order, as the OS might."""

    offers: list[int] = []

    def __init__(self, *args: object) -> None:
        self.port = 0

    def __enter__(self) -> _FakeSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def setsockopt(self, *args: object) -> None:
        pass

    def bind(self, address: tuple[str, int]) -> None:
        self.port = address[1] or self.offers.pop(0)

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def close(self) -> None:
        pass


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
def test_planning_skips_ports_held_by_another_run(holder, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _, held = holder
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        other = s.getsockname()[1]
    monkeypatch.setattr(_FakeSocket, "offers", [held, other])
    monkeypatch.setattr(ports_module.socket, "socket", _FakeSocket)
    assert Ports(registry=portreg.RunPorts(tmp_path / "my-run")).free() == other
    with pytest.raises(PortError, match="another run"):
        Ports(registry=portreg.RunPorts(tmp_path / "third-run")).fixed(held)


@pytest.mark.timeout(60)
def test_broker_ports_skip_ports_held_by_another_run(holder, monkeypatch: pytest.MonkeyPatch) -> None:
    _, held = holder
    monkeypatch.setattr(_FakeSocket, "offers", [held, 40001, 40002, 40003])
    monkeypatch.setattr(procs.socket, "socket", _FakeSocket)
    assert procs.free_ports(3) == [40001, 40002, 40003]


def test_broker_ports_of_a_live_run_are_held(tmp_path: Path) -> None:
    run = portreg.RunPorts(tmp_path / "run")
    state = tmp_path / "run" / "brokers" / "rabbit" / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text('{"amqp_port": 41001, "dist_port": 41002, "epmd_port": 41003}')
    assert {41001, 41002, 41003} <= portreg.held_ports()
    run.release()
    assert not {41001, 41002, 41003} & portreg.held_ports()
