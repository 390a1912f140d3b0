"""Where RabbitMQ's server script and Erlang's epmd are, or how to install them.

Debian's `/usr/sbin/rabbitmq-server` is a wrapper that switches to the
`rabbitmq` user and writes to /var/log; the lab needs the real script behind it
so the node runs as us with everything inside the run directory.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REAL_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
INSTALL_HINT = (
    "RabbitMQ is not installed: brokered (amqp) topologies need a local rabbitmq-server. "
    "Install it with `sudo apt-get install -y rabbitmq-server` (or `make setup`); "
    "brokerless (zmq, http) topologies run without it."
)


def server_script() -> Path | None:
    """The real `rabbitmq-server` script (not Debian's su wrapper), or None."""
    override = os.environ.get("LAB_RABBITMQ_SERVER")
    candidates = [Path(override)] if override else []
    candidates.append(REAL_SERVER)
    found = shutil.which("rabbitmq-server")
    if found:
        resolved = Path(found).resolve()
        if resolved.name == "rabbitmq-script-wrapper":
            candidates.append(resolved.parent / "rabbitmq-server")
        else:
            candidates.append(resolved)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def epmd_binary() -> str | None:
    return shutil.which("epmd") or (
        "/usr/lib/erlang/bin/epmd" if Path("/usr/lib/erlang/bin/epmd").exists() else None
    )


def rabbitmq_available() -> str | None:
    """None when a managed broker can be started here; otherwise what to do about it."""
    if server_script() is None:
        return INSTALL_HINT
    if shutil.which("erl") is None or epmd_binary() is None:
        return (
            "Erlang (erl, epmd) is missing, so rabbitmq-server cannot start. "
            "Install it with `sudo apt-get install -y rabbitmq-server` (or `make setup`)."
        )
    return None
