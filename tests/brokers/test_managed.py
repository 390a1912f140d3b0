"""Managed RabbitMQ nodes: they run, they are private and loopback-only, they die clean.

Checked against Debian's RabbitMQ 3.10: durable + persistent survives a kill
and a restart on the same data directory; transient messages do not.
"""

from __future__ import annotations

import ipaddress
import os
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pika
import pika.exceptions
import psutil
import pytest

from engines.brokers import (
    BrokerError,
    BrokerState,
    ManagedBroker,
    QueueDepthSampler,
    amqp_ready,
    cleanup_run_dir,
    procs,
    runend,
)
from tests.brokers.conftest import assert_nothing_left, mnesia_files, wait_declarations_on_disk

pytestmark = pytest.mark.rabbitmq


def _channel(url: str) -> tuple[pika.BlockingConnection, pika.adapters.blocking_connection.BlockingChannel]:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    return conn, conn.channel()


def _publish(url: str, queue: str, count: int, persistent: bool, durable: bool) -> None:
    """Publish with confirms, so the broker has taken (and, if persistent, written) each one."""
    conn, ch = _channel(url)
    try:
        ch.confirm_delivery()
        ch.queue_declare(queue, durable=durable)
        props = pika.BasicProperties(delivery_mode=2 if persistent else 1)
        for i in range(count):
            ch.basic_publish("", queue, f"m{i}".encode(), props)
    finally:
        conn.close()


@pytest.mark.timeout(120)
def test_publish_and_consume(shared_broker: ManagedBroker) -> None:
    assert shared_broker.state is BrokerState.RUNNING
    _publish(shared_broker.url, "t.pubcon", 25, persistent=True, durable=False)
    conn, ch = _channel(shared_broker.url)
    try:
        bodies = []
        for _ in range(25):
            method, _props, body = ch.basic_get("t.pubcon", auto_ack=True)
            assert method is not None
            bodies.append(body)
        assert bodies == [f"m{i}".encode() for i in range(25)]
        assert ch.basic_get("t.pubcon", auto_ack=True)[0] is None
    finally:
        conn.close()


@pytest.mark.timeout(120)
def test_credentials_are_made_for_the_run_and_cookie_is_private(shared_broker: ManagedBroker) -> None:
    layout = shared_broker.layout
    assert layout.user != "guest" and len(layout.password) >= 16
    assert shared_broker.url.startswith(f"amqp://{layout.user}:")
    assert stat.S_IMODE(layout.cookie_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(layout.config_file.stat().st_mode) == 0o600
    guest = f"amqp://guest:guest@127.0.0.1:{layout.amqp_port}/%2F"
    assert not amqp_ready(guest, timeout=3)
    assert layout.nodename.startswith("lab-shared-") and layout.nodename.endswith("@localhost")


@pytest.mark.timeout(120)
def test_listeners_are_on_loopback_only(shared_broker: ManagedBroker) -> None:
    beam = psutil.Process(shared_broker.beam_pid)
    assert "beam" in beam.name()
    listening = [
        c for p in shared_broker.pids() for c in psutil.Process(p).net_connections("inet")
        if c.status == psutil.CONN_LISTEN
    ]
    ports = {c.laddr.port for c in listening}
    layout = shared_broker.layout
    assert {layout.amqp_port, layout.dist_port, layout.epmd_port} <= ports
    for conn in listening:
        assert ipaddress.ip_address(conn.laddr.ip).is_loopback, conn


@pytest.mark.timeout(120)
def test_queue_depth_sampler(shared_broker: ManagedBroker) -> None:
    _publish(shared_broker.url, "t.depth", 7, persistent=False, durable=False)
    sampler = QueueDepthSampler(shared_broker.url, ["t.depth", "t.never-declared"], timeout=5)
    try:
        assert sampler.sample() == {"t.depth": 7}
        full = sampler.sample_full()
        assert full["t.depth"].ready == 7 and full["t.depth"].consumers == 0
    finally:
        sampler.close()


@pytest.mark.timeout(180)
def test_kill_leaves_nothing_and_restart_keeps_durable_state(own_broker: ManagedBroker) -> None:
    url = own_broker.url
    _publish(url, "durable.persistent", 40, persistent=True, durable=True)
    _publish(url, "durable.transient", 40, persistent=False, durable=True)
    _publish(url, "classic.transient", 40, persistent=False, durable=False)
    names = ["durable.persistent", "durable.transient", "classic.transient"]
    wait_declarations_on_disk(own_broker, names[:2])
    sampler = QueueDepthSampler(url, names, timeout=5)
    try:
        assert sampler.sample() == dict.fromkeys(names, 40)
        before = own_broker.pids()
        assert len(before) >= 3  # beam.smp, erl_child_setup, epmd at least
        own_broker.kill()
        assert state_of(own_broker) is BrokerState.KILLED
        assert_nothing_left(own_broker, before)
        assert sampler.sample() == {}  # survives a dead broker
        assert not amqp_ready(url, timeout=1)

        own_broker.restart(timeout=120)
        assert state_of(own_broker) is BrokerState.RUNNING
        assert own_broker.url == url  # same port, same credentials: clients reconnect as they were
        depths: dict[str, int] = {}
        for _ in range(40):  # the sampler retries its connection with a backoff; on a loaded
            depths = sampler.sample()  # machine one queue's declare can miss a sample
            if {"durable.persistent", "durable.transient"} <= depths.keys():
                break
            time.sleep(0.25)
        # RabbitMQ 3.10: persistent messages in a durable queue survive; transient ones
        # do not, and a non-durable queue is gone altogether.
        assert depths == {"durable.persistent": 40, "durable.transient": 0}, _recovery_story(own_broker)
    finally:
        sampler.close()


def state_of(broker: ManagedBroker) -> BrokerState:
    """The broker's state now: a call, so the checker does not carry an earlier answer over
    an action that changes it (kill, then restart)."""
    return broker.state


def _recovery_story(broker: ManagedBroker) -> str:
    """What the node said about recovering queues, and its Mnesia files, should a durable queue
    be missing after the restart again (the kill used to come before its declaration's Mnesia
    transaction had an outcome on disk: wait_declarations_on_disk)."""
    base = broker.layout.directory / "mnesia"
    files = sorted(f"{p.relative_to(base)} {p.stat().st_size} B" for p in mnesia_files(broker))
    lines = [line for path in sorted((broker.layout.directory / "log").glob("*.log"))
             for line in path.read_text(errors="replace").splitlines()
             if "ecover" in line or "durable." in line or "Mnesia" in line or "mnesia" in line]
    return "node log on queues:\n" + "\n".join(lines[-40:]) + "\nMnesia files: " + ", ".join(files)


@pytest.mark.timeout(180)
def test_pause_resume_and_graceful_stop(own_broker: ManagedBroker) -> None:
    url = own_broker.url
    _publish(url, "kept", 5, persistent=True, durable=True)
    own_broker.pause()
    assert state_of(own_broker) is BrokerState.PAUSED
    beam = psutil.Process(own_broker.beam_pid)
    assert beam.status() == psutil.STATUS_STOPPED
    assert not amqp_ready(url, timeout=1)
    own_broker.resume()
    assert state_of(own_broker) is BrokerState.RUNNING
    assert amqp_ready(url, timeout=5)

    before = own_broker.pids()
    own_broker.stop(timeout=30)
    assert state_of(own_broker) is BrokerState.STOPPED
    assert_nothing_left(own_broker, before)
    with pytest.raises(BrokerError, match="not running"):
        own_broker.pause()
    # Started from a thread that ends at once: the node must not die with that thread
    # (PR_SET_PDEATHSIG follows the forking thread; the handle forks from its own).
    starter = threading.Thread(target=own_broker.start, args=(120,))
    starter.start()
    starter.join(130)
    time.sleep(1.0)
    assert state_of(own_broker) is BrokerState.RUNNING and amqp_ready(url, timeout=5)
    sampler = QueueDepthSampler(url, ["kept"], timeout=5)
    try:
        assert sampler.sample() == {"kept": 5}
    finally:
        sampler.close()
    # The end of a run: the stop is over once RabbitMQ has closed its data (its message
    # stores stopped, then the management agent's line), not when 3.10's 5 s wait has passed.
    log = runend.node_log(own_broker.layout)
    offset = runend.log_size(log)
    before = own_broker.pids()
    own_broker.stop(timeout=30, run_ended=True)
    assert state_of(own_broker) is BrokerState.STOPPED
    assert_nothing_left(own_broker, before)
    said = log.read_bytes()[offset:]
    closed = said.index(runend.DATA_CLOSED)
    assert said.rindex(b"is stopped", 0, closed) > said.index(b"SIGTERM received")


_CRASHING_LAB = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from engines.brokers import ManagedBroker
    broker = ManagedBroker("orphan", Path(sys.argv[1]))
    broker.start(timeout=120)
    print(broker.beam_pid, broker.epmd_port, flush=True)
    time.sleep(120)
    """
)


@pytest.mark.timeout(180)
def test_a_sigkilled_lab_takes_beam_and_epmd_with_it(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    lab = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_LAB, str(tmp_path)],
        stdout=subprocess.PIPE, env=env, text=True,
    )
    epmd_port = 0
    try:
        line = lab.stdout.readline()  # type: ignore[union-attr]
        beam_pid, epmd_port = (int(x) for x in line.split())
        epmd = procs.epmd_processes(epmd_port)
        assert psutil.pid_exists(beam_pid) and len(epmd) == 1
        lab.kill()
        lab.wait(10)
        # The parent-death signal takes beam and the lab's own (foreground) epmd with the lab.
        _gone, alive = psutil.wait_procs([psutil.Process(beam_pid), *epmd], timeout=15)
        assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
        assert procs.epmd_processes(epmd_port) == []
        assert cleanup_run_dir(tmp_path) == []  # nothing left for a crash cleanup to find
    finally:
        if lab.poll() is None:
            lab.kill()
            lab.wait(10)
        cleanup_run_dir(tmp_path)
        if epmd_port:
            assert procs.epmd_processes(epmd_port) == []
