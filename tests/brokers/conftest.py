"""Fixtures for tests against real RabbitMQ nodes: one shared node, and leak checks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from engines.brokers import ManagedBroker, nodeconf, procs, rabbitmq_available
from engines.topology.model import BrokerNode, ClientNode, ServiceNode, Topology
from tests.runtime.conftest import Lab, assert_no_node_left

RABBIT_MISSING = rabbitmq_available()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked `rabbitmq`, with the install hint, where RabbitMQ is missing."""
    if RABBIT_MISSING is None:
        return
    skip = pytest.mark.skip(reason=RABBIT_MISSING)
    for item in items:
        if "rabbitmq" in item.keywords:
            item.add_marker(skip)


def assert_nothing_left(broker: ManagedBroker, beam_pids: list[int]) -> None:
    """No process of the node is alive: by recorded pid, and by its private epmd port."""
    for pid in beam_pids:
        if psutil.pid_exists(pid):
            try:
                status = psutil.Process(pid).status()
            except psutil.NoSuchProcess:
                continue
            assert status == psutil.STATUS_ZOMBIE, f"pid {pid} of {broker!r} still {status}"
    assert procs.epmd_processes(broker.epmd_port) == []
    assert broker.pids() == []
    nodename = broker.layout.nodename
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if nodename in cmd:
            assert proc.status() == psutil.STATUS_ZOMBIE, f"{proc.pid} still runs {nodename}"


@pytest.fixture(scope="session")
def shared_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedBroker]:
    """One managed node for every test that does not kill it (boot is ~5 s)."""
    if RABBIT_MISSING:
        pytest.skip(RABBIT_MISSING)
    run_dir: Path = tmp_path_factory.mktemp("shared-broker")
    broker = ManagedBroker("shared", run_dir)
    try:
        broker.start(timeout=120)
        yield broker
    finally:
        broker.close()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[ManagedBroker]:
    """A managed node of this test alone (it may kill it); closed and checked after."""
    if RABBIT_MISSING:
        pytest.skip(RABBIT_MISSING)
    broker = ManagedBroker(BrokerNode(name="rabbit").name, tmp_path)
    seen: list[int] = []
    try:
        broker.start(timeout=120)
        seen = broker.pids()
        yield broker
    finally:
        seen += broker.pids()
        broker.close()
        assert_nothing_left(broker, seen)


# -- runs through the runtime -------------------------------------------------------------

def isolate(topology: Topology, broker_url: str, suffix: str) -> Topology:
    """Point every broker of `topology` at a shared node, with channel names of its own.

    Tests that do not kill the broker share one node (boot is ~5 s); unique
    queue and exchange names keep each run's counts to itself.
    """
    rename: dict[str, str] = {}
    for link in topology.links:
        source = topology.node(link.source)
        if isinstance(source, ClientNode | ServiceNode) and isinstance(topology.node(link.target), BrokerNode):
            old = link.channel or source.name
            link.channel = rename.setdefault(old, f"{old}-{suffix}")
    for link in topology.links:
        if isinstance(topology.node(link.source), BrokerNode) and link.channel is not None:
            link.channel = rename.get(link.channel, link.channel)  # dead-letter channels: as given
    for broker in topology.brokers():
        broker.url = broker_url
    return topology


def assert_no_broker_left(run_dir: Path) -> None:
    """No beam of the run's managed nodes (by node name) and no epmd on their ports."""
    for state in nodeconf.recorded_states(run_dir):
        nodename = state["nodename"]
        for proc in psutil.process_iter(["cmdline"]):
            try:
                if nodename in " ".join(proc.info["cmdline"] or []):
                    assert proc.status() == psutil.STATUS_ZOMBIE, f"{proc.pid} runs {nodename}"
            except psutil.NoSuchProcess:
                continue
        assert procs.epmd_processes(int(state["epmd_port"])) == [], f"epmd of {nodename} left"


class BrokerLab(Lab):
    """The runtime's test runner, with room for a RabbitMQ boot on a loaded machine."""

    def run(self, topology: Topology, duration: float | None = None, on_tick: Any = None,
            **options: Any) -> tuple[dict[str, Any], Any]:
        options.setdefault("ready_timeout_s", 90.0)  # a boot takes ~5 s, far more under load
        return super().run(topology, duration, on_tick, **options)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """The runtime's test runner (tests.runtime.conftest.Lab); checks nothing outlives the test."""
    if RABBIT_MISSING:
        pytest.skip(RABBIT_MISSING)
    runner = BrokerLab(tmp_path)
    try:
        yield runner
    finally:
        runner.close()
        assert_no_node_left()
        for sup in runner.sups:
            assert_no_broker_left(sup.run_dir)


def mnesia_files(broker: ManagedBroker) -> list[Path]:
    """The node's Mnesia log and table files (LATEST.LOG, *.DCD, *.DCL)."""
    base = broker.layout.directory / "mnesia"
    return [p for p in base.rglob("*") if p.is_file() and p.suffix in (".LOG", ".DCD", ".DCL")]


def wait_declarations_on_disk(broker: ManagedBroker, queues: list[str], timeout_s: float = 30.0) -> None:
    """Wait until the node's Mnesia files hold each durable queue's declaration, committed.

    RabbitMQ 3.10 answers queue.declare-ok before its Mnesia transaction is settled on disk:
    the transaction's record (the queue in it, outcome `presume_abort`) is in LATEST.LOG within
    milliseconds, but the `committed` outcome that makes it count can follow a second or two
    later on a loaded machine (measured: 2 of 30 declarations under CPU load, 1.2 s and 2.0 s).
    A SIGKILL in between loses the queue ("Recovering 1 queues" for two declared, seen in this
    suite), as it would in production. A test about what survives a kill kills after that
    window, as an operator would expect to be safe: every queue named in the files and every
    logged transaction with its outcome.
    """
    base = broker.layout.directory / "mnesia"
    deadline = time.monotonic() + timeout_s
    while True:
        files = mnesia_files(broker)
        data = b"".join(p.read_bytes() for p in files)
        logs = b"".join(p.read_bytes() for p in files if p.name in ("LATEST.LOG", "PREVIOUS.LOG"))
        missing = [q for q in queues if q.encode() not in data]
        unsettled = logs.count(b"presume_abort") - logs.count(b"committed") - logs.count(b"aborted")
        if not missing and unsettled <= 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"queues {missing} not in {base}'s Mnesia files after {timeout_s:g} s"
                                 if missing else f"{unsettled} Mnesia transaction(s) without an outcome "
                                 f"in {base} after {timeout_s:g} s")
        time.sleep(0.2)
