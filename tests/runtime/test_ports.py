"""Listening ports come from below the kernel's ephemeral range, are free, and differ within a run."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from engines.brokers.procs import free_ports
from engines.hygiene import portrange
from engines.runtime import ports as ports_module
from engines.runtime.ports import Ports


def test_a_runs_ports_are_distinct_and_below_the_ephemeral_range() -> None:
    low, high = portrange.lab_range()
    assert high <= portrange.ephemeral_range()[0]
    picked = [Ports().free() for _ in range(1)] + [p for p in free_ports(3)]
    run = Ports()
    picked += [run.free() for _ in range(20)]
    assert all(low <= p < high for p in picked), picked
    assert len(set(picked[4:])) == 20


def test_a_port_someone_listens_on_is_never_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        probe.bind(("127.0.0.1", 0))
        other = probe.getsockname()[1]
        probe.close()

        def tries() -> Iterator[int]:
            yield taken
            yield taken
            while True:
                yield other

        monkeypatch.setattr(ports_module, "candidates", tries)
        assert Ports().free() == other


def test_no_room_below_the_ephemeral_range_falls_back_to_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(portrange, "ephemeral_range", lambda: (5000, 60999))
    assert next(portrange.candidates()) == 0
    assert Ports().free() > 0
