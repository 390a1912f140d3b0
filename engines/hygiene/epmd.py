"""Which port an epmd daemon serves, read as epmd itself chooses it (light: the reaper uses it).

Its `-port` argument, else its ERL_EPMD_PORT, else 4369. Read from the process's
arguments and environment rather than the kernel's socket table: psutil parses
all of /proc/net/tcp for each process asked, and with thousands of sockets about
(a test suite, a loaded lab) that was seconds of CPU for every broker's life.
"""

from __future__ import annotations

import psutil

DEFAULT_PORT = 4369
CLIENT_FLAGS = ("-names", "-kill", "-stop")  # `epmd -kill` asks a daemon; it is no daemon


def port_of(proc: psutil.Process) -> int | None:
    """The port the epmd daemon `proc` listens on; None for an epmd client (`epmd -kill`) or a
    process that cannot be read (another user's)."""
    try:
        cmd = proc.cmdline()
        if any(flag in cmd for flag in CLIENT_FLAGS):
            return None
        if "-port" in cmd[:-1]:
            value = cmd[cmd.index("-port") + 1]
        else:
            value = proc.environ().get("ERL_EPMD_PORT", str(DEFAULT_PORT))
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return int(value) if value.isdigit() else None
