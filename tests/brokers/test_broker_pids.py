"""A managed broker's processes are looked up only while its node process is not reaped: once
reaped, its pid may be reused by any program, and a GUI lowering "the broker's processes" lowered
whatever had that pid (and the window's own session with it). No RabbitMQ needed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from engines.brokers.managed import ManagedBroker


def test_a_reaped_node_process_names_no_process_even_if_its_pid_is_reused(tmp_path: Path) -> None:
    broker = ManagedBroker("rabbit", tmp_path)
    node = subprocess.Popen(["sleep", "0"])
    node.wait(timeout=10)  # killed and reaped, as after a kill
    node.pid = os.getpid()  # and its number reused: here, by this very process
    broker._proc = node
    try:
        assert broker.pids_now() == []
        assert os.getpid() not in broker.pids()
    finally:
        broker._proc = None
        broker.close()


def test_a_live_node_process_names_itself_and_its_children(tmp_path: Path) -> None:
    broker = ManagedBroker("rabbit", tmp_path)
    node = subprocess.Popen(["sh", "-c", "sleep 30 & wait"])
    broker._proc = node
    try:
        deadline = 50
        while len(broker.pids_now()) < 2 and deadline:  # the shell and its sleep
            deadline -= 1
            subprocess.run(["sleep", "0.1"], check=False)
        assert node.pid in broker.pids_now() and len(broker.pids_now()) == 2
    finally:
        node.kill()
        node.wait(timeout=10)
        broker._proc = None
        broker.close()
