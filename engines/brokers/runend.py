"""The stop of a managed node at the end of a run: done once RabbitMQ has closed its data.

On SIGTERM RabbitMQ 3.10 stops its listeners, closes connections, stops each
vhost's message stores, then logs "Management plugin: to stop
collect_statistics." and waits 5 s for the statistics to stop being emitted
before the VM halts. RabbitMQ removed that wait in 3.13 ("No point waiting for
that stats to stop being emitted when we stop the node completely",
rabbitmq-server pull request 11070). A node stopped at the end of a run is
never started again, so its stop ends at that line: 6 s to 1 s per node, and
every brokered run in the GUI, the CLI and the suite ends 5 s sooner. A stop
asked for during a run (a scenario, a menu) keeps waiting for the node to
exit, as RabbitMQ 3.10 does: a restart may follow, and it must find what the
stop left.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

DATA_CLOSED = b"Management plugin: to stop collect_statistics"
POLL_S = 0.05


def node_log(layout: Any) -> Path:
    """The node's own log (RABBITMQ_LOG_BASE/<nodename>.log)."""
    return Path(layout.directory) / "log" / f"{layout.nodename}.log"


def log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def wait_data_closed(proc: subprocess.Popen[bytes], log: Path, offset: int, timeout: float) -> bool:
    """Wait until `proc` exits or its log, past `offset`, says its data is closed; False at
    `timeout` (the caller kills what is left either way)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return True
        try:
            with log.open("rb") as handle:
                handle.seek(offset)
                if DATA_CLOSED in handle.read():
                    return True
        except OSError:
            pass
        time.sleep(POLL_S)
    return False
