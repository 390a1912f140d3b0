"""Finding a managed node's epmd by its port, as epmd itself chose the port (real epmd daemons).

The lab starts its own epmd with `-port`; beam daemonises one that reads
ERL_EPMD_PORT. Either must be found by the port it listens on, and no other.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from engines.brokers import procs
from engines.brokers.install import epmd_binary

EPMD = epmd_binary()
pytestmark = pytest.mark.skipif(EPMD is None, reason="no epmd on this machine")


def _spawn(args: list[str], port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, ERL_EPMD_ADDRESS="127.0.0.1")
    if "-port" not in args:
        env["ERL_EPMD_PORT"] = str(port)
    return subprocess.Popen([str(EPMD), *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


@pytest.mark.timeout(30)
def test_an_epmd_is_found_by_its_argument_or_its_environment_and_no_other() -> None:
    by_argument, by_environment = procs.free_ports(2)
    started = [_spawn(["-port", str(by_argument), "-address", "127.0.0.1"], by_argument),
               _spawn(["-address", "127.0.0.1"], by_environment)]
    try:
        deadline = time.monotonic() + 10
        while not (procs.accepts(by_argument) and procs.accepts(by_environment)):
            assert time.monotonic() < deadline, "epmd never listened"
            time.sleep(0.02)
        assert [p.pid for p in procs.epmd_processes(by_argument)] == [started[0].pid]
        assert [p.pid for p in procs.epmd_processes(by_environment)] == [started[1].pid]
        unused = procs.free_ports(1)[0]
        assert procs.epmd_processes(unused) == [] and not procs.accepts(unused)
    finally:
        for proc in started:
            proc.kill()
            proc.wait(timeout=10)
    assert procs.epmd_processes(by_argument) == procs.epmd_processes(by_environment) == []
